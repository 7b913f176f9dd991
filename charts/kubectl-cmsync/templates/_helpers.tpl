{{/* The name of the release's objects: the release name, with the chart's name unless it is in there already. */}}
{{- define "kubectl-cmsync.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "kubectl-cmsync.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "kubectl-cmsync.labels" -}}
{{ include "kubectl-cmsync.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* The ServiceAccount as an RBAC subject. */}}
{{- define "kubectl-cmsync.subject" -}}
- kind: ServiceAccount
  name: {{ include "kubectl-cmsync.fullname" . }}
  namespace: {{ .Release.Namespace }}
{{- end -}}

{{- define "kubectl-cmsync.fromCluster" -}}
{{- if eq .Values.mode "rulesFromCluster" -}}true
{{- else if ne .Values.mode "rulesFile" -}}
{{- fail (printf "mode is rulesFromCluster or rulesFile, not %q" .Values.mode) -}}
{{- end -}}
{{- end -}}

{{/* watch's arguments, from the values. */}}
{{- define "kubectl-cmsync.args" -}}
- watch
{{- if include "kubectl-cmsync.fromCluster" . }}
- --rules-from-cluster
{{- else }}
- -f
- /etc/cmsync/rules.yaml
{{- end }}
{{- if .Values.leaderElection.enabled }}
- --leader-elect
- --leader-elect-name={{ required "leaderElection.leaseName" .Values.leaderElection.leaseName }}
{{- end }}
- --metrics-bind-address=:{{ .Values.metrics.port }}
{{- if .Values.recordEvents }}
- --record-events
{{- end }}
{{- if not (has .Values.log.format (list "json" "text")) }}
{{- fail (printf "log.format is json or text, not %q" .Values.log.format) }}
{{- end }}
- --log-format={{ .Values.log.format }}
{{- if .Values.log.verbosity }}
- --v={{ int .Values.log.verbosity }}
{{- end }}
{{- end -}}

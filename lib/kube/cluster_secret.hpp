#pragma once

#include <string>

#include "kube/object.hpp"
#include "kube/rest_config.hpp"

namespace cmsync::kube {

/// Argo CD marks its cluster Secrets with this label, value "cluster" (Argo CD's declarative
/// setup; util/db/cluster.go reads keys name, server and config).
inline constexpr const char* kArgoCdSecretTypeLabel = "argocd.argoproj.io/secret-type";
/// Cluster API's kubeconfig Secret, `<cluster>-kubeconfig`: this type, label
/// cluster.x-k8s.io/cluster-name, the whole kubeconfig under key `value` (util/secret).
inline constexpr const char* kClusterApiSecretType = "cluster.x-k8s.io/secret";
inline constexpr const char* kClusterApiKubeconfigKey = "value";

/// Where and as whom to reach the cluster a Secret describes, in the formats people have:
/// an Argo CD cluster Secret (labelled kArgoCdSecretTypeLabel=cluster: `server`, and `config`
/// JSON with bearerToken, username/password, tlsClientConfig, execProviderConfig, proxyUrl),
/// or a Cluster API kubeconfig Secret (a kubeconfig under `value`, its current context; data
/// embedded, no file paths). Pure. Throws Error, one line naming the Secret and the field,
/// never a value, for anything missing, malformed or not supported (awsAuthConfig, files).
RestConfig cluster_from_secret(const Object& secret);

}  // namespace cmsync::kube

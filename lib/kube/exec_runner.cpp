// The I/O edge of exec credentials: runs the plugin process.
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "error.hpp"
#include "kube/exec_credential.hpp"

extern char** environ;

namespace cmsync::kube {

std::string run_exec_plugin(const ExecConfig& exec, const std::string& exec_info) {
    std::vector<std::string> env_strings;
    for (char** e = environ; *e != nullptr; ++e) {
        env_strings.emplace_back(*e);
    }
    for (const auto& [name, value] : exec.env) {
        env_strings.push_back(name + "=" + value);
    }
    env_strings.push_back("KUBERNETES_EXEC_INFO=" + exec_info);
    std::vector<char*> envp;
    for (auto& s : env_strings) {
        envp.push_back(s.data());
    }
    envp.push_back(nullptr);
    std::vector<std::string> arg_strings{exec.command};
    arg_strings.insert(arg_strings.end(), exec.args.begin(), exec.args.end());
    std::vector<char*> argv;
    for (auto& s : arg_strings) {
        argv.push_back(s.data());
    }
    argv.push_back(nullptr);

    int out_pipe[2];
    int err_pipe[2];  // carries errno when exec fails
    if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) {
        throw Error(fmt::format("exec plugin {}: pipe: {}", exec.command, std::strerror(errno)));
    }
    const pid_t pid = fork();
    if (pid < 0) {
        throw Error(fmt::format("exec plugin {}: fork: {}", exec.command, std::strerror(errno)));
    }
    if (pid == 0) {
        const int devnull = open("/dev/null", O_RDONLY);
        dup2(devnull, STDIN_FILENO);
        dup2(out_pipe[1], STDOUT_FILENO);
        execvpe(argv[0], argv.data(), envp.data());
        const int err = errno;
        (void)!write(err_pipe[1], &err, sizeof err);
        _exit(127);
    }
    close(out_pipe[1]);
    close(err_pipe[1]);
    std::string output;
    char buffer[4096];
    for (;;) {
        const ssize_t n = read(out_pipe[0], buffer, sizeof buffer);
        if (n > 0) {
            output.append(buffer, static_cast<std::size_t>(n));
        } else if (n == 0 || errno != EINTR) {
            break;
        }
    }
    close(out_pipe[0]);
    int exec_errno = 0;
    const bool exec_failed = read(err_pipe[0], &exec_errno, sizeof exec_errno) > 0;
    close(err_pipe[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (exec_failed) {
        throw Error(
            fmt::format("exec plugin {}: cannot run: {}", exec.command, std::strerror(exec_errno)));
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        throw Error(fmt::format("exec plugin {}: failed with exit status {}", exec.command,
                                WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status)));
    }
    return output;
}

}  // namespace cmsync::kube

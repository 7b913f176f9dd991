#include "http/transport.hpp"

#include <thread>
#include <utility>

namespace cmsync::http {

void Transport::open_stream(const Request& request, BodySink sink, CancelCheck cancelled,
                            StreamEnded ended) {
    std::thread([this, request, sink = std::move(sink), cancelled = std::move(cancelled),
                 ended = std::move(ended)] {
        Response response;
        std::exception_ptr error;
        try {
            response = stream(request, sink, cancelled);
        } catch (...) {
            error = std::current_exception();
        }
        ended(std::move(response), error);
    }).detach();
}

}  // namespace cmsync::http

#include "http/curl_multiplexer.hpp"

#include <algorithm>

#include "http/curl_api.hpp"

namespace cmsync::http {

CurlMultiplexer::CurlMultiplexer() : multi_(curl().multi_init()) {
    curl().multi_setopt(multi_, CURLMOPT_PIPELINING, static_cast<long>(CURLPIPE_MULTIPLEX));
    thread_ = std::thread([this] { loop(); });
}

CurlMultiplexer::~CurlMultiplexer() {
    {
        std::lock_guard guard(mutex_);
        stop_ = true;
    }
    curl().multi_wakeup(multi_);
    thread_.join();
    curl().multi_cleanup(multi_);
}

CURLcode CurlMultiplexer::run(CurlEasy& easy) {
    // Wait for a connection that can carry another stream rather than open a new one.
    easy.set_pipewait();
    Transfer transfer{&easy};
    std::unique_lock lock(mutex_);
    incoming_.push_back(&transfer);
    curl().multi_wakeup(multi_);
    finished_.wait(lock, [&] { return transfer.done; });
    return transfer.result;
}

void CurlMultiplexer::loop() {
    for (;;) {
        {
            std::lock_guard guard(mutex_);
            for (auto* t : incoming_) {
                if (curl().multi_add_handle(multi_, t->easy->handle()) == CURLM_OK) {
                    active_.push_back(t);
                } else {
                    t->result = CURLE_FAILED_INIT;
                    t->done = true;
                }
            }
            incoming_.clear();
            if (stop_) {
                for (auto* t : active_) {
                    curl().multi_remove_handle(multi_, t->easy->handle());
                    t->result = CURLE_ABORTED_BY_CALLBACK;
                    t->done = true;
                }
                active_.clear();
                finished_.notify_all();
                return;
            }
        }
        finished_.notify_all();
        int running = 0;
        curl().multi_perform(multi_, &running);
        int left = 0;
        while (CURLMsg* msg = curl().multi_info_read(multi_, &left)) {
            if (msg->msg != CURLMSG_DONE) {
                continue;
            }
            CURL* handle = msg->easy_handle;
            const CURLcode result = msg->data.result;
            curl().multi_remove_handle(multi_, handle);
            std::lock_guard guard(mutex_);
            const auto it = std::find_if(active_.begin(), active_.end(),
                                         [&](Transfer* t) { return t->easy->handle() == handle; });
            if (it != active_.end()) {
                (*it)->result = result;
                (*it)->done = true;
                active_.erase(it);
            }
        }
        finished_.notify_all();
        curl().multi_poll(multi_, nullptr, 0, 1000, nullptr);
    }
}

}  // namespace cmsync::http

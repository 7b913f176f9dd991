#include "http/curl_multiplexer.hpp"

#include <algorithm>
#include <utility>

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

void CurlMultiplexer::start(CurlEasy& easy, Ended ended) {
    // Wait for a connection that can carry another stream rather than open a new one.
    easy.set_pipewait();
    {
        std::lock_guard guard(mutex_);
        incoming_.push_back(std::make_unique<Transfer>(Transfer{&easy, std::move(ended)}));
    }
    curl().multi_wakeup(multi_);
}

void CurlMultiplexer::wake() {
    {
        std::lock_guard guard(mutex_);
        check_cancels_ = true;
    }
    curl().multi_wakeup(multi_);
}

void CurlMultiplexer::loop() {
    std::vector<std::unique_ptr<Transfer>> incoming;
    for (;;) {
        bool stop = false;
        bool check_cancels = false;
        {
            std::lock_guard guard(mutex_);
            incoming.swap(incoming_);
            stop = stop_;
            check_cancels = std::exchange(check_cancels_, false);
        }
        for (auto& t : incoming) {
            if (curl().multi_add_handle(multi_, t->easy->handle()) == CURLM_OK) {
                active_.push_back(std::move(t));
            } else {
                t->ended(CURLE_FAILED_INIT);
            }
        }
        incoming.clear();
        if (stop) {
            for (auto& t : active_) {
                curl().multi_remove_handle(multi_, t->easy->handle());
                t->ended(CURLE_ABORTED_BY_CALLBACK);
            }
            active_.clear();
            return;
        }
        if (check_cancels) {
            end_cancelled();
        }
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
            const auto it = std::find_if(active_.begin(), active_.end(), [&](const auto& t) {
                return t->easy->handle() == handle;
            });
            if (it != active_.end()) {
                auto t = std::move(*it);
                active_.erase(it);
                t->ended(result);
            }
        }
        curl().multi_poll(multi_, nullptr, 0, 1000, nullptr);
    }
}

void CurlMultiplexer::end_cancelled() {
    // Not left to the progress callbacks after the wake-up: libcurl 7.88 happens to call every
    // transfer's in curl_multi_perform, but all it promises is about once a second.
    const auto cancelled = std::stable_partition(
        active_.begin(), active_.end(), [](const auto& t) { return !t->easy->cancel_due(); });
    std::vector<std::unique_ptr<Transfer>> ended(std::make_move_iterator(cancelled),
                                                 std::make_move_iterator(active_.end()));
    active_.erase(cancelled, active_.end());
    for (auto& t : ended) {
        curl().multi_remove_handle(multi_, t->easy->handle());
        t->ended(CURLE_ABORTED_BY_CALLBACK);
    }
}

}  // namespace cmsync::http

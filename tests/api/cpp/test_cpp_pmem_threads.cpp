// SPDX-License-Identifier: MIT
// Threads sharing one pmem kind through copies of one allocator
// (pmem_allocator.h): all copy it at once, fill containers, free each
// other's blocks; the main thread drops its allocator while they run, and
// the kind goes with the last copy, in whichever thread that is. Run under
// TSan too (the count of copies is atomic).
#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include <pmem_allocator.h>

#include "cpp_check.h"
#include "cpp_containers.h"

namespace pm = libmemkind::pmem;

static const int n_threads = 8;
static const int rounds = 200;

struct barrier {
    std::mutex m;
    std::condition_variable cv;
    int waiting = 0, generation = 0;
    void wait() {
        std::unique_lock<std::mutex> lock(m);
        int gen = generation;
        if (++waiting == n_threads + 1) {
            waiting = 0;
            generation++;
            cv.notify_all();
        } else {
            cv.wait(lock, [&] { return gen != generation; });
        }
    }
};

struct result {
    long bad_values = 0, foreign_blocks = 0, kinds_seen_other = 0;
};

// Each thread: copies of the shared allocator made concurrently, then
// containers through its own copies and rebinds; every block must be the
// kind's (first_kind) and in dir.
static void worker(const pm::allocator<int> *shared, barrier *b, memkind_t first_kind,
                   const std::string *dir, std::vector<int *> *to_free, result *r, int id) {
    b->wait();
    std::vector<pm::allocator<int>> copies;
    for (int i = 0; i < 64; i++)
        copies.push_back(*shared);
    b->wait(); // after this the main thread drops *shared
    auto owned = [&](const void *p) {
        bool kind_ok = memkind_detect_kind(const_cast<void *>(p)) == first_kind;
        r->kinds_seen_other += !kind_ok;
        return kind_ok && mapped_under(p, *dir);
    };
    for (int round = 0; round < rounds; round++) {
        const pm::allocator<int> &a = copies[round % copies.size()];
        std::vector<int, pm::allocator<int>> v(a);
        std::map<int, long, std::less<int>, rebound<pm::allocator<int>, std::pair<const int, long>>> m(a);
        for (int i = 0; i < 100; i++) {
            v.push_back(id * 1000 + i);
            m[i] = long(id) * i;
        }
        kind_string<pm::allocator<int>> s(long_text(round).c_str(), a);
        for (int i = 0; i < 100; i++)
            r->bad_values += v[i] != id * 1000 + i || m[i] != long(id) * i;
        r->bad_values += std::string(s.c_str()) != long_text(round);
        r->foreign_blocks += !owned(v.data()) + !owned(&m[50]) + !owned(s.data());
    }
    // Blocks the main thread allocated, freed here through an equal copy.
    for (int *p : *to_free) {
        r->bad_values += *p != id;
        copies.back().deallocate(p, 1);
    }
    while (!copies.empty())
        copies.pop_back();
}

static void test_threads_share_one_kind(void) {
    std::string dir = scratch_dir("threads");
    barrier b;
    std::vector<std::thread> threads;
    std::vector<result> results(n_threads);
    std::vector<std::vector<int *>> to_free(n_threads);
    {
        pm::allocator<int> *shared = new pm::allocator<int>(dir, 256u << 20);
        int *probe = shared->allocate(1);
        memkind_t kind = memkind_detect_kind(probe);
        shared->deallocate(probe, 1);
        CHECK(kind != nullptr && kind != MEMKIND_DEFAULT);
        for (int t = 0; t < n_threads; t++) {
            for (int i = 0; i < 50; i++) {
                int *p = shared->allocate(1);
                *p = t;
                to_free[t].push_back(p);
            }
            threads.emplace_back(worker, shared, &b, kind, &dir, &to_free[t], &results[t], t);
        }
        b.wait(); // all copy now
        b.wait(); // all have their copies
        delete shared;
    }
    for (std::thread &t : threads)
        t.join();
    for (const result &r : results)
        CHECK(r.bad_values == 0 && r.foreign_blocks == 0 && r.kinds_seen_other == 0);
    // The last copy, in some worker, destroyed the kind: its file is unmapped.
    CHECK(mappings_under(dir) == 0);
}

int main() {
    RUN(test_threads_share_one_kind);
    return check_result("test_cpp_pmem_threads");
}

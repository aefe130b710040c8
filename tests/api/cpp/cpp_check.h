// SPDX-License-Identifier: MIT
// The C++ allocator tests' checks: CHECK counts a failure and goes on (main
// thread only), CHECK_THROWS wants exactly that exception type, and
// mapped_under tells whether an address lies in a file mapping whose path
// starts with a directory (where a pmem kind's memory must come from).
#ifndef HETMEM_TEST_CPP_CHECK_H
#define HETMEM_TEST_CPP_CHECK_H

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string>

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static int check_failures;

#define CHECK(...)                                                                                 \
    do {                                                                                           \
        if (!(__VA_ARGS__)) {                                                                      \
            std::fprintf(stderr, "%s:%d: FAILED: %s\n", __FILE__, __LINE__, #__VA_ARGS__);         \
            ++check_failures;                                                                      \
        }                                                                                          \
    } while (0)

// `stmt` must throw Exc; another exception or none is a failure.
#define CHECK_THROWS(Exc, stmt)                                                                    \
    do {                                                                                           \
        const char *check_got_ = "no exception";                                                   \
        try {                                                                                      \
            stmt;                                                                                  \
        } catch (const Exc &) {                                                                    \
            check_got_ = nullptr;                                                                  \
        } catch (const std::exception &e) {                                                        \
            check_got_ = e.what();                                                                 \
        }                                                                                          \
        if (check_got_) {                                                                          \
            std::fprintf(stderr, "%s:%d: FAILED: %s should throw %s, got: %s\n", __FILE__,         \
                         __LINE__, #stmt, #Exc, check_got_);                                       \
            ++check_failures;                                                                      \
        }                                                                                          \
    } while (0)

// Runs one test function and says so.
#define RUN(fn)                                                                                    \
    do {                                                                                           \
        int before_ = check_failures;                                                              \
        try {                                                                                      \
            fn();                                                                                  \
        } catch (const std::exception &e) {                                                        \
            std::fprintf(stderr, "%s: unexpected exception: %s\n", #fn, e.what());                 \
            ++check_failures;                                                                      \
        }                                                                                          \
        std::printf("%s %s\n", check_failures == before_ ? "ok  " : "FAIL", #fn);                  \
        std::fflush(stdout);                                                                       \
    } while (0)

// The path of the mapping holding p ("" when none or anonymous).
static inline std::string mapping_path(const void *p) {
    std::ifstream maps("/proc/self/maps");
    std::string line;
    unsigned long addr = reinterpret_cast<unsigned long>(p);
    while (std::getline(maps, line)) {
        unsigned long lo = 0, hi = 0;
        if (std::sscanf(line.c_str(), "%lx-%lx", &lo, &hi) != 2 || addr < lo || addr >= hi)
            continue;
        std::string::size_type slash = line.find('/');
        return slash == std::string::npos ? std::string() : line.substr(slash);
    }
    return std::string();
}

static inline bool mapped_under(const void *p, const std::string &dir) {
    return mapping_path(p).compare(0, dir.size() + 1, dir + "/") == 0;
}

// How many mappings are files under dir (0 once every kind there is gone).
static inline int mappings_under(const std::string &dir) {
    std::ifstream maps("/proc/self/maps");
    std::string line;
    int n = 0;
    while (std::getline(maps, line))
        if (line.find(" " + dir + "/") != std::string::npos)
            n++;
    return n;
}

// A fresh directory for pmem kinds, removed (with what is left) at exit.
static inline std::string scratch_dir(const char *tag) {
    static std::string root;
    if (root.empty()) {
        char tmpl[] = "/tmp/hetmem-cpp-XXXXXX";
        if (!mkdtemp(tmpl)) {
            std::perror("mkdtemp");
            std::exit(1);
        }
        root = tmpl;
        static std::string cleanup;
        cleanup = "rm -rf '" + root + "'";
        std::atexit([] { if (std::system(cleanup.c_str()) != 0) std::perror("rm"); });
    }
    std::string dir = root + "/" + tag;
    if (mkdir(dir.c_str(), 0700) != 0) {
        std::perror(dir.c_str());
        std::exit(1);
    }
    return dir;
}

static inline int check_result(const char *name) {
    std::printf("%s: %d failure(s)\n", name, check_failures);
    return check_failures ? 1 : 0;
}

#endif

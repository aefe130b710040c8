// SPDX-License-Identifier: MIT
// The pools the conformance suite runs against: ONE LINE PER POOL. CMake
// reads the names from this file to register one test per pool and
// provider, and conformance.c declares each ops function weak, so a pool
// whose code is not linked yet reports a skip instead of breaking the build.
//
// POOL(name, ops function, params setup (or none), capabilities)
//   capabilities: CAP_FULL       malloc, calloc, realloc, aligned, usable size
//                 CAP_PROXY      the documented proxy subset (UMF: no calloc,
//                                realloc or usable size)
POOL(proxy, umfProxyPoolOps, none, CAP_PROXY)
POOL(disjoint, umfDisjointPoolOps, disjoint_defaults, CAP_FULL)
POOL(scalable, umfScalablePoolOps, none, CAP_FULL)
POOL(jemalloc, umfJemallocPoolOps, none, CAP_FULL)

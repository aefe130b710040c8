// SPDX-License-Identifier: MIT
// libumf.so.0 (docs/umf-abi.md): UMF 0.11's file name, SONAME and version
// nodes, and no code. Every UMF function is in libhetmem.so.1, which this
// library needs, under both UMF_0.10 and UMF_0.11; the dynamic loader
// checks that libumf.so.0 defines the versions a program asks for, then
// finds each symbol in libhetmem.so.1. One core per process.

#pragma once
// Plain-struct complex types: with C99 `float _Complex`, Swift silently drops every routine that
// takes a complex by value.
#define HAVE_LAPACK_CONFIG_H 1
#define LAPACK_COMPLEX_STRUCTURE 1
#include <lapacke.h>

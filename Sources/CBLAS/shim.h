#pragma once
// pkg-config openblas adds -I/usr/include/x86_64-linux-gnu/openblas-pthread, so this is OpenBLAS's own
// cblas.h (with openblas_set_num_threads). Without pkg-config it falls back to Debian's alternatives link.
#include <cblas.h>

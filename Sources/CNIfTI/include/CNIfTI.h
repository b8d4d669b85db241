#pragma once
// NIfTI-1/2 and ANALYZE 7.5 I/O (Debian libnifti2-dev = nifti_clib 3.0.1). nifti2_io.h and nifti1_io.h
// declare the same names with different types: import exactly one and link the matching library.
#include <nifti/nifti2_io.h>

/// Silences (0) or restores libnifti's own diagnostics on stderr; we report errors ourselves.
void cnifti_set_debug_level(int level);

#pragma once
// NIfTI-1/2 and ANALYZE 7.5 I/O (Debian libnifti2-dev = nifti_clib 3.0.1). nifti2_io.h and nifti1_io.h
// declare the same names with different types: import exactly one and link the matching library.
#include <nifti/nifti2_io.h>
// zlib's gz* functions (gzopen/gzread read plain files too): Volumes probes headers and reads voxel
// data with them, because libnifti's own data reader silently replaces NaN/Inf floats with 0.
#include <zlib.h>

/// Silences (0) or restores libnifti's own diagnostics on stderr; we report errors ourselves.
void cnifti_set_debug_level(int level);

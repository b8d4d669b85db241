#include "CNIfTI.h"

void cnifti_set_debug_level(int level) { nifti_set_debug_level(level); }

#pragma once
// Forwarder for nifti2_io.h's `#include <znzlib.h>` (it expects -I/usr/include/nifti).
#include <nifti/znzlib.h>

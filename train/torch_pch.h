#pragma once
// Precompiled header for train/ (the only place torch may be included).
#include <torch/torch.h>

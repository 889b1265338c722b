#include "rt3/version.h"

namespace rt3 {

const char* version_string() { return RT3_VERSION_STRING; }

}  // namespace rt3

#pragma once

#define RT3_VERSION_STRING "0.2.0"

namespace rt3 {

// Version of the library (also written into every bundle the exporter makes).
const char* version_string();

}  // namespace rt3

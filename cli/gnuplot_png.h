#pragma once
// A PNG of a line chart, rendered by gnuplot (Debian's gnuplot-nox, png terminal), for the places
// that promise a PNG (rt3 search's reward curve). The SVG writer (report/svg_plot.h) stays the
// project's own renderer; this only hands the same series to an installed program.
#include <string>

#include "report/svg_plot.h"

namespace rt3::cli {

// Writes png_path (atomically: temporary file, then rename). Returns false and says why in *why
// when gnuplot is missing or fails; nothing is written then.
bool line_chart_png(const report::LineChart& chart, const std::string& png_path, std::string* why);

}  // namespace rt3::cli

// A tiny self-contained SVG writer for the report's charts: line/step series with axes, ticks,
// labels and a legend (one or more panels stacked vertically), and a grouped bar chart. SVG, not
// PNG, on purpose: no raster dependencies, and the files embed directly in the HTML report.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace rt3::report {

struct Series {
  std::string name;
  std::vector<double> x, y;  // same length
  bool step = false;         // hold each y until the next x (a step function), else straight lines
};

struct Axis {
  std::string label;
  std::optional<double> min, max;                   // default: the data range (y: from 0 if all >= 0)
  std::vector<std::pair<double, std::string>> ticks;  // explicit ticks; empty = automatic "nice" ticks
};

struct LineChart {
  std::string title;
  Axis x, y;
  std::vector<Series> series;
};

struct BarChart {
  std::string title;
  std::string y_label;
  std::vector<std::string> groups;        // x categories
  std::vector<std::string> series_names;  // one bar per series in each group
  std::vector<std::vector<std::optional<double>>> values;  // [series][group]; nullopt = no bar
  std::vector<std::vector<bool>> faded;   // [series][group], optional: drawn pale (e.g. misses deadline)
  std::string faded_note;                 // legend text explaining pale bars
};

// Panels share the width and are stacked top to bottom. Throws std::invalid_argument on series
// with different x/y lengths or an empty chart list.
std::string line_charts_svg(const std::vector<LineChart>& panels, int width = 860, int panel_height = 360);
std::string bar_chart_svg(const BarChart& chart, int width = 860, int height = 420);

// "Nice" tick positions covering [lo, hi] (steps of 1, 2 or 5 x 10^k), about `target` of them.
std::vector<double> nice_ticks(double lo, double hi, int target = 6);
// Escapes &, <, >, " for SVG text and attributes.
std::string xml_escape(const std::string& s);

}  // namespace rt3::report

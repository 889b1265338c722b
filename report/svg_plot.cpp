#include "report/svg_plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace rt3::report {
namespace {

const char* const kPalette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"};
constexpr int kPaletteSize = sizeof(kPalette) / sizeof(kPalette[0]);

// Plot-area margins: room for the y tick labels and axis label on the left, the legend on the right.
constexpr double kLeft = 78, kRight = 200, kTop = 34, kBottom = 52;

std::string fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

// Tick label: as few digits as the step needs.
std::string tick_label(double v, double step) {
  char buf[32];
  const int decimals = step >= 1 ? 0 : std::min(6, static_cast<int>(std::ceil(-std::log10(step) - 1e-9)));
  std::snprintf(buf, sizeof buf, "%.*f", decimals, std::abs(v) < step * 1e-6 ? 0.0 : v);
  return buf;
}

struct Range {
  double lo = 0, hi = 1;
};

// Data range, widened when empty or flat so the scale never divides by zero.
Range widen(double lo, double hi) {
  if (!std::isfinite(lo) || !std::isfinite(hi) || lo > hi) return {0, 1};
  if (hi - lo < 1e-12 * std::max(1.0, std::abs(hi))) {
    const double pad = std::abs(hi) > 0 ? std::abs(hi) * 0.1 : 1;
    return {lo - pad, hi + pad};
  }
  return {lo, hi};
}

Range axis_range(const Axis& a, const std::vector<double>& values, bool from_zero) {
  double lo = INFINITY, hi = -INFINITY;
  for (double v : values)
    if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
  for (const auto& t : a.ticks) lo = std::min(lo, t.first), hi = std::max(hi, t.first);
  if (from_zero && lo >= 0) lo = 0;
  if (a.min) lo = *a.min;
  if (a.max) hi = *a.max;
  Range r = widen(lo, hi);
  if (from_zero && !a.max && a.ticks.empty()) {  // end a value axis on a tick so the tallest value has a label above it
    const auto t = nice_ticks(r.lo, r.hi);
    if (t.size() > 1) r.hi = std::ceil(r.hi / (t[1] - t[0]) - 1e-9) * (t[1] - t[0]);
  }
  return r;
}

std::vector<std::pair<double, std::string>> ticks_for(const Axis& a, Range r) {
  if (!a.ticks.empty()) return a.ticks;
  std::vector<std::pair<double, std::string>> out;
  const auto t = nice_ticks(r.lo, r.hi);
  const double step = t.size() > 1 ? t[1] - t[0] : 1;
  for (double v : t) out.push_back({v, tick_label(v, step)});
  return out;
}

std::string text(double x, double y, const std::string& s, const char* anchor, int size = 12, const char* extra = "") {
  return "<text x=\"" + fmt(x) + "\" y=\"" + fmt(y) + "\" text-anchor=\"" + anchor + "\" font-size=\"" +
         std::to_string(size) + "\"" + extra + ">" + xml_escape(s) + "</text>\n";
}

std::string line(double x1, double y1, double x2, double y2, const char* style) {
  return "<line x1=\"" + fmt(x1) + "\" y1=\"" + fmt(y1) + "\" x2=\"" + fmt(x2) + "\" y2=\"" + fmt(y2) + "\" " + style + "/>\n";
}

std::string header(int width, int height) {
  return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(width) + "\" height=\"" +
         std::to_string(height) + "\" viewBox=\"0 0 " + std::to_string(width) + " " + std::to_string(height) +
         "\" font-family=\"sans-serif\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
}

// Frame, grid, ticks and axis labels of one plot area; returns the SVG.
struct Frame {
  double x0, y0, x1, y1;  // plot area in pixels (y0 top)
  Range xr, yr;
  double px(double x) const { return x0 + (x - xr.lo) / (xr.hi - xr.lo) * (x1 - x0); }
  double py(double y) const { return y1 - (y - yr.lo) / (yr.hi - yr.lo) * (y1 - y0); }
};

std::string axes(const Frame& f, const std::string& title, const std::string& xlabel, const std::string& ylabel,
                 const std::vector<std::pair<double, std::string>>& xticks,
                 const std::vector<std::pair<double, std::string>>& yticks) {
  std::string s;
  s += text((f.x0 + f.x1) / 2, f.y0 - 12, title, "middle", 14, " font-weight=\"bold\"");
  for (const auto& [v, label] : yticks) {
    if (v < f.yr.lo - 1e-9 || v > f.yr.hi + 1e-9) continue;
    const double y = f.py(v);
    s += line(f.x0, y, f.x1, y, "stroke=\"#e0e0e0\"");
    s += text(f.x0 - 6, y + 4, label, "end", 11);
  }
  for (const auto& [v, label] : xticks) {
    if (v < f.xr.lo - 1e-9 || v > f.xr.hi + 1e-9) continue;
    const double x = f.px(v);
    s += line(x, f.y1, x, f.y1 + 5, "stroke=\"black\"");
    s += text(x, f.y1 + 18, label, "middle", 11);
  }
  s += "<rect x=\"" + fmt(f.x0) + "\" y=\"" + fmt(f.y0) + "\" width=\"" + fmt(f.x1 - f.x0) + "\" height=\"" +
       fmt(f.y1 - f.y0) + "\" fill=\"none\" stroke=\"black\"/>\n";
  s += text((f.x0 + f.x1) / 2, f.y1 + 38, xlabel, "middle", 12);
  const double ly = (f.y0 + f.y1) / 2;
  s += text(16, ly, ylabel, "middle", 12, (" transform=\"rotate(-90 16 " + fmt(ly) + ")\"").c_str());
  return s;
}

// Legend line or swatch in palette colour i (i < 0: grey, for notes such as "pale = ...").
std::string legend_entry(double x, double y, int i, const std::string& name, bool bar, double opacity = 1) {
  std::string s;
  if (bar)
    s += "<rect x=\"" + fmt(x) + "\" y=\"" + fmt(y - 9) + "\" width=\"14\" height=\"10\" fill=\"" +
         (i < 0 ? "#808080" : kPalette[i % kPaletteSize]) + "\" fill-opacity=\"" + fmt(opacity) + "\"/>\n";
  else
    s += line(x, y - 4, x + 18, y - 4,
              (std::string("stroke=\"") + kPalette[i % kPaletteSize] + "\" stroke-width=\"2\"").c_str());
  s += text(x + 24, y, name, "start", 11);
  return s;
}

}  // namespace

std::vector<double> nice_ticks(double lo, double hi, int target) {
  std::vector<double> out;
  if (!(hi > lo) || target < 1) return {lo};
  const double raw = (hi - lo) / target;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * mag >= raw) {
      step = m * mag;
      break;
    }
  for (double v = std::ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) out.push_back(v);
  return out;
}

std::string xml_escape(const std::string& s) {
  std::string out;
  for (char ch : s) {
    switch (ch) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += ch;
    }
  }
  return out;
}

std::string line_charts_svg(const std::vector<LineChart>& panels, int width, int panel_height) {
  if (panels.empty()) throw std::invalid_argument("svg: no chart to draw");
  std::string s = header(width, panel_height * static_cast<int>(panels.size()));
  for (std::size_t p = 0; p < panels.size(); ++p) {
    const LineChart& c = panels[p];
    std::vector<double> xs, ys;
    for (const auto& se : c.series) {
      if (se.x.size() != se.y.size())
        throw std::invalid_argument("svg: series '" + se.name + "' has " + std::to_string(se.x.size()) + " x but " +
                                    std::to_string(se.y.size()) + " y values");
      xs.insert(xs.end(), se.x.begin(), se.x.end());
      ys.insert(ys.end(), se.y.begin(), se.y.end());
    }
    const double top = static_cast<double>(p) * panel_height;
    Frame f{kLeft, top + kTop, width - kRight, top + panel_height - kBottom, axis_range(c.x, xs, false),
            axis_range(c.y, ys, true)};
    s += axes(f, c.title, c.x.label, c.y.label, ticks_for(c.x, f.xr), ticks_for(c.y, f.yr));
    for (std::size_t i = 0; i < c.series.size(); ++i) {
      const Series& se = c.series[i];
      std::string pts;
      for (std::size_t k = 0; k < se.x.size(); ++k) {
        if (se.step && k > 0) pts += fmt(f.px(se.x[k])) + "," + fmt(f.py(se.y[k - 1])) + " ";
        pts += fmt(f.px(se.x[k])) + "," + fmt(f.py(se.y[k])) + " ";
      }
      s += std::string("<polyline fill=\"none\" stroke=\"") + kPalette[i % kPaletteSize] +
           "\" stroke-width=\"2\" points=\"" + pts + "\"/>\n";
      s += legend_entry(width - kRight + 14, f.y0 + 14 + 18 * static_cast<double>(i), static_cast<int>(i), se.name, false);
    }
  }
  return s + "</svg>\n";
}

std::string bar_chart_svg(const BarChart& c, int width, int height) {
  if (c.values.size() != c.series_names.size())
    throw std::invalid_argument("svg: bar chart has " + std::to_string(c.series_names.size()) + " series names but " +
                                std::to_string(c.values.size()) + " value rows");
  std::vector<double> ys;
  for (const auto& row : c.values) {
    if (row.size() != c.groups.size())
      throw std::invalid_argument("svg: a bar chart row has " + std::to_string(row.size()) + " values for " +
                                  std::to_string(c.groups.size()) + " groups");
    for (const auto& v : row)
      if (v) ys.push_back(*v);
  }
  const double n = std::max<double>(1, static_cast<double>(c.groups.size()));
  Frame f{kLeft, kTop, width - kRight, height - kBottom, Range{0, n}, axis_range(Axis{}, ys, true)};
  std::vector<std::pair<double, std::string>> xticks;
  for (std::size_t g = 0; g < c.groups.size(); ++g) xticks.push_back({static_cast<double>(g) + 0.5, c.groups[g]});
  std::string s = header(width, height);
  s += axes(f, c.title, "", c.y_label, xticks, ticks_for(Axis{}, f.yr));
  const double group_w = (f.x1 - f.x0) / n;
  const double bar_w = group_w * 0.8 / std::max<double>(1, static_cast<double>(c.series_names.size()));
  for (std::size_t i = 0; i < c.values.size(); ++i) {
    for (std::size_t g = 0; g < c.groups.size(); ++g) {
      if (!c.values[i][g]) continue;
      const bool pale = i < c.faded.size() && g < c.faded[i].size() && c.faded[i][g];
      const double x = f.x0 + group_w * (static_cast<double>(g) + 0.1) + bar_w * static_cast<double>(i);
      const double y = f.py(*c.values[i][g]);
      s += "<rect x=\"" + fmt(x) + "\" y=\"" + fmt(y) + "\" width=\"" + fmt(bar_w) + "\" height=\"" + fmt(f.y1 - y) +
           "\" fill=\"" + kPalette[i % kPaletteSize] + "\" fill-opacity=\"" + (pale ? "0.25" : "1") + "\"/>\n";
    }
    s += legend_entry(width - kRight + 14, f.y0 + 14 + 18 * static_cast<double>(i), static_cast<int>(i), c.series_names[i], true);
  }
  if (!c.faded_note.empty())
    s += legend_entry(width - kRight + 14, f.y0 + 14 + 18 * static_cast<double>(c.values.size()), -1, c.faded_note, true, 0.25);
  return s + "</svg>\n";
}

}  // namespace rt3::report

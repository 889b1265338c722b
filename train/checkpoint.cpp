#include "train/checkpoint.h"

#include "runtime/format/input_file.h"
#include "runtime/format/safetensors.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace rt3::train {
namespace fs = std::filesystem;

namespace {

// Wraps torch's c10::Error (multi-line, with a C++ backtrace) into a one-line message.
[[noreturn]] void rethrow_torch(const std::string& what, const std::string& path, const std::exception& e) {
  std::string msg = e.what();
  const auto nl = msg.find('\n');
  if (nl != std::string::npos) msg = msg.substr(0, nl);
  throw std::runtime_error(what + " '" + path + "': " + msg);
}

fs::path ckpt_dir(const std::string& run_dir) { return fs::path(run_dir) / "checkpoint"; }

}  // namespace

void save_weights(torch::nn::Module& module, const std::string& path) {
  format::SafetensorsWriter w;
  for (const auto& p : module.named_parameters()) {
    torch::Tensor t = p.value().detach().to(torch::kFloat32).contiguous();
    w.add(p.key(), format::DType::F32, t.sizes().vec(), t.data_ptr<float>(), t.numel() * sizeof(float));
  }
  w.write(path);
}

void load_weights(torch::nn::Module& module, const std::string& path) {
  if (!fs::exists(path)) throw std::runtime_error("weights file '" + path + "' not found");
  try {
    auto file = format::SafetensorsFile::open(path);
    auto params = module.named_parameters();
    for (const auto& t : file.tensors())
      if (!params.contains(t.name)) throw std::runtime_error("unexpected tensor '" + t.name + "'");
    torch::NoGradGuard no_grad;
    for (auto& p : params) {
      std::vector<float> v = file.read_floats(p.key(), p.value().sizes().vec());
      // A NaN or Inf weight makes every loss and accuracy meaningless: refuse it where it is read.
      for (float x : v)
        if (!std::isfinite(x)) throw std::runtime_error("tensor '" + p.key() + "' holds NaN or Inf");
      p.value().copy_(torch::from_blob(v.data(), p.value().sizes(), torch::kFloat32));
    }
  } catch (const std::exception& e) {
    throw std::runtime_error("corrupt or incompatible weights file '" + path + "': " + e.what());
  }
}

void save_checkpoint(const std::string& run_dir, torch::nn::Module& module, torch::optim::Optimizer& opt,
                     const CheckpointState& state) {
  const fs::path final_dir = ckpt_dir(run_dir);
  const fs::path tmp = fs::path(run_dir) / "checkpoint.tmp";
  const fs::path old = fs::path(run_dir) / "checkpoint.old";
  fs::remove_all(tmp);
  fs::create_directories(tmp);
  save_weights(module, (tmp / "model.safetensors").string());
  try {
    torch::serialize::OutputArchive ar;
    opt.save(ar);
    ar.save_to((tmp / "optimizer.pt").string());
    torch::Tensor rng;
    {
      auto gen = at::detail::getDefaultCPUGenerator();
      std::lock_guard<std::mutex> lock(gen.mutex());
      rng = gen.get_state();
    }
    torch::save(rng, (tmp / "rng.pt").string());
  } catch (const c10::Error& e) {
    rethrow_torch("cannot write checkpoint in", tmp.string(), e);
  }
  nlohmann::json j = {{"step", state.step}, {"extra", state.extra}};
  write_file_atomic((tmp / "state.json").string(), j.dump(2));
  // Swap: checkpoint -> checkpoint.old, tmp -> checkpoint, drop old. A kill between the two
  // renames leaves checkpoint.old, which load_checkpoint falls back to.
  fs::remove_all(old);
  if (fs::exists(final_dir)) fs::rename(final_dir, old);
  fs::rename(tmp, final_dir);
  fs::remove_all(old);
}

bool has_checkpoint(const std::string& run_dir) {
  return fs::exists(ckpt_dir(run_dir) / "state.json") || fs::exists(fs::path(run_dir) / "checkpoint.old" / "state.json");
}

std::optional<CheckpointState> load_checkpoint(const std::string& run_dir, torch::nn::Module& module,
                                               torch::optim::Optimizer& opt) {
  fs::path dir = ckpt_dir(run_dir);
  if (!fs::exists(dir / "state.json")) dir = fs::path(run_dir) / "checkpoint.old";
  if (!fs::exists(dir / "state.json")) return std::nullopt;
  CheckpointState st;
  try {
    auto j = nlohmann::json::parse(format::read_input_file((dir / "state.json").string()));
    st.step = j.at("step").get<int64_t>();
    st.extra = j.value("extra", nlohmann::json::object());
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error("corrupt checkpoint state '" + (dir / "state.json").string() + "': " + e.what());
  }
  load_weights(module, (dir / "model.safetensors").string());
  try {
    torch::serialize::InputArchive ar;
    ar.load_from((dir / "optimizer.pt").string());
    opt.load(ar);
    torch::Tensor rng;
    torch::load(rng, (dir / "rng.pt").string());
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(rng);
  } catch (const c10::Error& e) {
    rethrow_torch("corrupt checkpoint in", dir.string(), e);
  }
  return st;
}

}  // namespace rt3::train

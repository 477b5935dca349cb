#pragma once
/// \file
/// ParameterStore<T>: the trainable tensors of a network and their gradients, each in ONE flat host array
/// (values(), gradients()) so that an optimizer, a gradient all-reduce or a checkpoint sees one vector.
/// Parameters are named and shaped (PyTorch's layouts); their order is the order of add(), which fixes the
/// flat layout. Weights are saved as F32 safetensors (io/safetensors.hpp) under their names; loading checks
/// that the file holds exactly the store's names with the same shapes and names the first mismatch.

#include <algorithm>
#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "pnpdist/core/errors.hpp"
#include "pnpdist/core/types.hpp"
#include "pnpdist/io/safetensors.hpp"

namespace pnpdist::nn::train {

/// One named parameter tensor: its shape and where it starts in the flat arrays.
struct ParameterInfo {
  std::string name;
  std::vector<index_t> shape;
  index_t offset = 0;
  index_t size = 0;
};

template <class T>
class ParameterStore {
public:
  /// Appends a parameter of `shape` filled with `initial` values (row-major); returns its index.
  /// Throws invalid_argument for a name given twice or a value count that does not match the shape.
  std::size_t add(const std::string& name, std::vector<index_t> shape, const std::vector<T>& initial) {
    index_t size = 1;
    for (index_t e : shape) size *= e;
    require(static_cast<std::size_t>(size) == initial.size(), [&] {
      return "ParameterStore::add: parameter '" + name + "' of shape " + shape_to_string(shape) + " got " +
             std::to_string(initial.size()) + " initial values";
    });
    require(find(name) < 0, [&] { return "ParameterStore::add: parameter '" + name + "' is given twice"; });
    infos_.push_back(ParameterInfo{name, std::move(shape), static_cast<index_t>(values_.size()), size});
    values_.insert(values_.end(), initial.begin(), initial.end());
    gradients_.resize(values_.size(), T(0));
    return infos_.size() - 1;
  }

  [[nodiscard]] const std::vector<ParameterInfo>& infos() const { return infos_; }
  [[nodiscard]] index_t size() const { return static_cast<index_t>(values_.size()); }

  /// Index of the parameter called `name`, or -1.
  [[nodiscard]] long find(const std::string& name) const {
    for (std::size_t i = 0; i < infos_.size(); ++i)
      if (infos_[i].name == name) return static_cast<long>(i);
    return -1;
  }

  /// The flat arrays (all parameters in add() order).
  [[nodiscard]] std::vector<T>& values() { return values_; }
  [[nodiscard]] const std::vector<T>& values() const { return values_; }
  [[nodiscard]] std::vector<T>& gradients() { return gradients_; }
  [[nodiscard]] const std::vector<T>& gradients() const { return gradients_; }

  /// Parameter i's values and gradient in the flat arrays.
  [[nodiscard]] T* value(std::size_t i) { return values_.data() + infos_.at(i).offset; }
  [[nodiscard]] const T* value(std::size_t i) const { return values_.data() + infos_.at(i).offset; }
  [[nodiscard]] T* gradient(std::size_t i) { return gradients_.data() + infos_.at(i).offset; }

  void zero_gradients() { std::fill(gradients_.begin(), gradients_.end(), T(0)); }

  /// Writes every parameter as F32 under its name (values rounded to float when T is double), with
  /// `metadata` as the file's "__metadata__" when it is not empty.
  void save_safetensors(const std::string& path, const std::map<std::string, std::string>& metadata = {}) const {
    std::vector<SafetensorsTensor> tensors;
    for (const ParameterInfo& p : infos_)
      tensors.push_back({p.name, p.shape,
                         std::vector<float>(values_.begin() + p.offset, values_.begin() + p.offset + p.size)});
    write_safetensors(path, tensors, metadata);
  }

  /// Reads every parameter from `path`. Throws io_error naming the file and the first parameter that is
  /// missing or has another shape, or a tensor of the file that the store does not have. Returns the file's
  /// "__metadata__" (empty when it has none).
  std::map<std::string, std::string> load_safetensors(const std::string& path) {
    const SafetensorsFile file(path);
    for (const SafetensorsEntry& e : file.entries())
      require<io_error>(find(e.name) >= 0, [&] {
        return "weights file '" + path + "': tensor '" + e.name + "' is not a parameter of this network";
      });
    for (const ParameterInfo& p : infos_) {
      const SafetensorsEntry* e = file.find(p.name);
      require<io_error>(e != nullptr, [&] { return "weights file '" + path + "' has no tensor '" + p.name + "'"; });
      require<io_error>(e->shape == p.shape, [&] {
        return "weights file '" + path + "': tensor '" + p.name + "' has shape " + shape_to_string(e->shape) +
               ", the network needs " + shape_to_string(p.shape);
      });
      const std::vector<T> v = file.read<T>(*e);
      std::copy(v.begin(), v.end(), values_.begin() + p.offset);
    }
    return file.metadata();
  }

private:
  std::vector<ParameterInfo> infos_;
  std::vector<T> values_, gradients_;
};

}  // namespace pnpdist::nn::train

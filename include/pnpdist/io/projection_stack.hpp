#pragma once
/// \file
/// A stack of projections stored as TIFF (one single-page file per projection, or one multi-page file) or as
/// a 3-D dataset of an HDF5 file (views x rows x cols, io/hdf5.hpp; all its views or a list of them). Reads a
/// subset of the projections (first, step, count), a window of the detector, and bins it while
/// reading, in blocks:
///
///   auto stack = ProjectionStack::files(list_numbered_files(dir, "scan_", ".tif"));
///   stack.for_each_block(selection, window, 16, [&](index_t first, View<const float, 3> block) { ... });
///
/// Memory: a block of (block, rows / b, cols / b) floats, one full-resolution window and one TIFF strip per
/// reading thread (HDF5: one hyperslab per block, or per view when binning, and HDF5's chunk cache); nothing is
/// held between calls. Files of one projection each are read by `threads` threads (each opens its own file); a
/// multi-page file or an HDF5 dataset is read by one. Every projection must have the shape of the first
/// (io_error naming the file otherwise). A whole selection read at once (read(selection, window)) must fit
/// ReadLimits::max_allocation_bytes.

#include <algorithm>
#include <exception>
#include <filesystem>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "pnpdist/backend/serial.hpp"
#include "pnpdist/core/errors.hpp"
#include "pnpdist/io/hdf5.hpp"
#include "pnpdist/io/read_limits.hpp"
#include "pnpdist/io/tiff.hpp"
#include "pnpdist/preprocessing/binning.hpp"
#include "pnpdist/tensor/owning_tensor.hpp"

namespace pnpdist {

/// The projections first, first + step, ... (count of them; count < 0: every one up to the end).
struct ProjectionSelection {
  index_t first = 0;
  index_t step = 1;
  index_t count = -1;
};

/// The detector window: rows x cols pixels from (row, col) (rows or cols 0: to the edge), binned b x b
/// (preprocessing/binning.hpp: trailing pixels that fill no block are dropped).
struct DetectorWindow {
  index_t row = 0;
  index_t col = 0;
  index_t rows = 0;
  index_t cols = 0;
  index_t binning = 1;
};

/// The files `dir/<prefix><digits><extension>`, ordered by their number. Throws io_error when the directory
/// cannot be listed, holds no such file (unless `required` is false: then the list is empty), or the numbers
/// are not consecutive (naming the first missing file).
[[nodiscard]] inline std::vector<std::string> list_numbered_files(const std::string& dir, const std::string& prefix,
                                                                  const std::string& extension, bool required = true) {
  namespace fs = std::filesystem;
  std::error_code ec;
  require<io_error>(fs::is_directory(dir, ec), [&] { return "list_numbered_files: '" + dir + "' is not a directory"; });
  std::map<long long, std::string> numbered;
  index_t digits = 0;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.size() <= prefix.size() + extension.size() || name.compare(0, prefix.size(), prefix) != 0 ||
        name.compare(name.size() - extension.size(), extension.size(), extension) != 0)
      continue;
    const std::string number = name.substr(prefix.size(), name.size() - prefix.size() - extension.size());
    if (number.size() > 15 || !std::all_of(number.begin(), number.end(), [](char c) { return c >= '0' && c <= '9'; }))
      continue;
    digits = static_cast<index_t>(number.size());
    numbered[std::stoll(number)] = entry.path().string();
  }
  require<io_error>(!ec, [&] { return "list_numbered_files: cannot list '" + dir + "': " + ec.message(); });
  if (numbered.empty() && !required) return {};
  require<io_error>(!numbered.empty(), [&] {
    return "list_numbered_files: no file " + prefix + "<number>" + extension + " in '" + dir + "'";
  });
  std::vector<std::string> files;
  long long expected = numbered.begin()->first;
  for (const auto& [number, path] : numbered) {
    if (number != expected) {
      std::string missing = std::to_string(expected);
      missing.insert(0, static_cast<std::size_t>(std::max<index_t>(0, digits - static_cast<index_t>(missing.size()))),
                     '0');
      throw io_error("list_numbered_files: '" + dir + "': " + prefix + missing + extension + " is missing (found " +
                     std::to_string(numbered.size()) + " files numbered " + std::to_string(numbered.begin()->first) +
                     " .. " + std::to_string(numbered.rbegin()->first) + ")");
    }
    files.push_back(path);
    ++expected;
  }
  return files;
}

/// Projections in TIFF files or an HDF5 dataset (file comment).
class ProjectionStack {
public:
  /// One single-page TIFF per projection, in order. Opens the first file for the detector shape.
  [[nodiscard]] static ProjectionStack files(std::vector<std::string> paths) {
    require(!paths.empty(), "ProjectionStack::files: no files");
    ProjectionStack s;
    TiffReader first(paths.front());
    const TiffPage page = first.page(0);
    s.rows_ = page.rows;
    s.cols_ = page.cols;
    s.size_ = static_cast<index_t>(paths.size());
    s.paths_ = std::move(paths);
    return s;
  }
  /// Every page of one multi-page TIFF is a projection.
  [[nodiscard]] static ProjectionStack multipage(const std::string& path) {
    ProjectionStack s;
    TiffReader reader(path);
    const TiffPage page = reader.page(0);
    s.rows_ = page.rows;
    s.cols_ = page.cols;
    s.size_ = reader.pages();
    s.paths_ = {path};
    s.source_ = Source::multipage;
    return s;
  }
  /// The 3-D dataset `dataset` (views, rows, cols) of the HDF5 file `path`: every view in order, or, with
  /// `views`, those dataset views in that order (the projections of a NeXus image_key, say). Throws io_error
  /// as Hdf5Dataset does, and when the list of every view (8 bytes each) exceeds the allocation limit;
  /// invalid_argument when `views` is empty or leaves the dataset.
  [[nodiscard]] static ProjectionStack hdf5(const std::string& path, const std::string& dataset,
                                            std::optional<std::vector<index_t>> views = std::nullopt,
                                            const ReadLimits& limits = ReadLimits::from_environment()) {
    ProjectionStack s;
    const Hdf5Dataset data(path, dataset, limits);
    s.rows_ = data.rows();
    s.cols_ = data.cols();
    if (views) {
      require(!views->empty(), [&] { return "ProjectionStack::hdf5: no views of " + data.where() + " selected"; });
      for (const index_t v : *views)
        require(v >= 0 && v < data.views(), [&] {
          return "ProjectionStack::hdf5: view " + std::to_string(v) + " outside " + data.where() + " of " +
                 std::to_string(data.views()) + " views";
        });
      s.views_ = std::move(*views);
    } else {
      // A dataset may declare more views than its file stores (unwritten chunks read as the fill value).
      (void)checked_allocation_bytes("ProjectionStack::hdf5: " + data.where() + ": the list of its views",
                                     std::vector<index_t>{data.views()}, sizeof(index_t), limits);
      s.views_.resize(static_cast<std::size_t>(data.views()));
      for (index_t v = 0; v < data.views(); ++v) s.views_[static_cast<std::size_t>(v)] = v;
    }
    s.size_ = static_cast<index_t>(s.views_.size());
    s.paths_ = {path};
    s.dataset_ = dataset;
    s.source_ = Source::hdf5;
    s.limits_ = limits;
    return s;
  }

  [[nodiscard]] index_t size() const { return size_; }
  [[nodiscard]] index_t rows() const { return rows_; }
  [[nodiscard]] index_t cols() const { return cols_; }
  /// Where the projections are, for messages: "'dir/scan_000000.tif' .. (N files)", "'scan.tif'" or
  /// "'scan.h5' dataset '/entry/data/data'".
  [[nodiscard]] std::string describe() const {
    if (source_ == Source::hdf5) return "'" + paths_.front() + "' dataset '" + dataset_ + "'";
    if (source_ == Source::multipage) return "'" + paths_.front() + "'";
    return "'" + paths_.front() + "' .. (" + std::to_string(paths_.size()) + " files)";
  }

  /// The stack indices of a selection. Throws invalid_argument when it is empty or leaves the stack.
  [[nodiscard]] std::vector<index_t> indices(const ProjectionSelection& s) const {
    require(s.first >= 0 && s.first < size_ && s.step >= 1 && s.count != 0, [&] {
      return "ProjectionStack: selection first " + std::to_string(s.first) + " step " + std::to_string(s.step) +
             " count " + std::to_string(s.count) + " of a stack of " + std::to_string(size_);
    });
    const index_t available = (size_ - s.first + s.step - 1) / s.step;
    require(s.count <= available, [&] {
      return "ProjectionStack: " + std::to_string(s.count) + " projections from " + std::to_string(s.first) +
             " in steps of " + std::to_string(s.step) + " exceed the stack of " + std::to_string(size_);
    });
    std::vector<index_t> out;
    for (index_t k = 0; k < (s.count < 0 ? available : s.count); ++k) out.push_back(s.first + k * s.step);
    return out;
  }

  /// The window with its zero sizes filled in. Throws invalid_argument when it leaves the detector or holds
  /// no binned pixel.
  [[nodiscard]] DetectorWindow resolve(DetectorWindow w) const {
    if (w.rows == 0) w.rows = rows_ - w.row;
    if (w.cols == 0) w.cols = cols_ - w.col;
    require(w.row >= 0 && w.col >= 0 && w.rows >= 1 && w.cols >= 1 && w.row + w.rows <= rows_ &&
                w.col + w.cols <= cols_ && w.binning >= 1 && w.rows / w.binning >= 1 && w.cols / w.binning >= 1,
            [&] {
              return "ProjectionStack: window " + std::to_string(w.rows) + " x " + std::to_string(w.cols) + " at (" +
                     std::to_string(w.row) + ", " + std::to_string(w.col) + ") binned " + std::to_string(w.binning) +
                     " on a detector of " + std::to_string(rows_) + " x " + std::to_string(cols_);
            });
    return w;
  }

  /// The extents (projections, rows, cols) that a selection and window read.
  [[nodiscard]] Extents<3> shape(const ProjectionSelection& s, const DetectorWindow& w) const {
    const DetectorWindow r = resolve(w);
    return Extents<3>{static_cast<index_t>(indices(s).size()), r.rows / r.binning, r.cols / r.binning};
  }

  /// Reads the stack projections `which` through window `w` into out (extents (which.size(), binned window)).
  void read(const std::vector<index_t>& which, const DetectorWindow& w, const View<float, 3, HostSpace>& out,
            int threads = 1) const {
    const DetectorWindow r = resolve(w);
    require<dimension_mismatch>(
        out.extents() == Extents<3>{static_cast<index_t>(which.size()), r.rows / r.binning, r.cols / r.binning}, [&] {
          return "ProjectionStack::read: " + std::to_string(which.size()) + " projections of the window do not fit " +
                 to_string(out.extents());
        });
    require<invalid_argument>(out.is_contiguous(), "ProjectionStack::read needs a contiguous view");
    for (const index_t i : which)
      require(i >= 0 && i < size_,
              [&] { return "ProjectionStack::read: projection " + std::to_string(i) + " outside the stack"; });
    if (source_ == Source::hdf5) {
      read_hdf5(which, r, out);
      return;
    }
    if (source_ == Source::multipage) {
      TiffReader reader(paths_.front());
      Tensor<float, 2> scratch(Extents<2>{r.rows, r.cols});
      for (std::size_t k = 0; k < which.size(); ++k)
        read_one(reader, which[k], r, scratch, out, static_cast<index_t>(k));
      return;
    }
    const int workers = std::max(1, std::min<int>(threads, static_cast<int>(which.size())));
    std::vector<std::exception_ptr> failures(static_cast<std::size_t>(workers));
    const auto work = [&](int t) {
      try {
        Tensor<float, 2> scratch(Extents<2>{r.rows, r.cols});
        for (std::size_t k = static_cast<std::size_t>(t); k < which.size(); k += static_cast<std::size_t>(workers)) {
          TiffReader reader(paths_[static_cast<std::size_t>(which[k])]);
          read_one(reader, 0, r, scratch, out, static_cast<index_t>(k));
        }
      } catch (...) {
        failures[static_cast<std::size_t>(t)] = std::current_exception();
      }
    };
    if (workers == 1) {
      work(0);
    } else {
      std::vector<std::thread> pool;
      for (int t = 0; t < workers; ++t) pool.emplace_back(work, t);
      for (auto& th : pool) th.join();
    }
    for (const auto& f : failures)
      if (f) std::rethrow_exception(f);
  }

  /// Reads a whole selection.
  [[nodiscard]] Tensor<float, 3> read(const ProjectionSelection& s, const DetectorWindow& w, int threads = 1) const {
    const Extents<3> extents = shape(s, w);
    (void)checked_allocation_bytes("ProjectionStack::read: " + describe(), std::span<const index_t>(extents),
                                   sizeof(float), limits_);
    Tensor<float, 3> out(extents);
    read(indices(s), w, out.view(), threads);
    return out;
  }

  /// Calls fn(first, block) for consecutive blocks of at most `block` selected projections, in order; `first`
  /// is the block's offset in the selection, `block` a view valid during the call. Memory: one block.
  template <class Fn>
  void for_each_block(const ProjectionSelection& s, const DetectorWindow& w, index_t block, Fn&& fn,
                      int threads = 1) const {
    require(block >= 1,
            [&] { return "ProjectionStack::for_each_block: block must be >= 1, got " + std::to_string(block); });
    const std::vector<index_t> all = indices(s);
    const Extents<3> full = shape(s, w);
    Tensor<float, 3> buffer(Extents<3>{std::min<index_t>(block, full[0]), full[1], full[2]});
    for (index_t first = 0; first < full[0]; first += block) {
      const index_t n = std::min(block, full[0] - first);
      const std::vector<index_t> which(all.begin() + first, all.begin() + first + n);
      const View<float, 3, HostSpace> part(buffer.data(), Extents<3>{n, full[1], full[2]});
      read(which, w, part, threads);
      fn(first, View<const float, 3, HostSpace>(part));
    }
  }

private:
  ProjectionStack() = default;

  enum class Source { files, multipage, hdf5 };

  /// Reads the window of one projection with read_window(view of r.rows x r.cols) into out(k), binned.
  template <class ReadWindow>
  static void store(const DetectorWindow& r, Tensor<float, 2>& scratch, const View<float, 3, HostSpace>& out, index_t k,
                    ReadWindow&& read_window) {
    const index_t br = out.extent(1), bc = out.extent(2);
    if (r.binning == 1) {
      read_window(View<float, 2, HostSpace>(&out(k, 0, 0), Extents<2>{br, bc}));
      return;
    }
    read_window(scratch.view());
    preprocessing::bin_detector(Serial{},
                                View<const float, 3, HostSpace>(scratch.data(), Extents<3>{1, r.rows, r.cols}),
                                View<float, 3, HostSpace>(&out(k, 0, 0), Extents<3>{1, br, bc}), r.binning);
  }

  void read_one(TiffReader& reader, index_t page, const DetectorWindow& r, Tensor<float, 2>& scratch,
                const View<float, 3, HostSpace>& out, index_t k) const {
    const TiffPage p = reader.page(page);
    require<io_error>(p.rows == rows_ && p.cols == cols_, [&] {
      return "ProjectionStack: '" + reader.path() + "'" +
             (source_ == Source::multipage ? " page " + std::to_string(page) : "") + " is " + std::to_string(p.rows) +
             " x " + std::to_string(p.cols) + ", the first projection " + std::to_string(rows_) + " x " +
             std::to_string(cols_);
    });
    store(r, scratch, out, k,
          [&](const View<float, 2, HostSpace>& window) { reader.read(page, r.row, r.col, window); });
  }

  /// The HDF5 source: unbinned views at a constant stride in one hyperslab, otherwise one view at a time.
  void read_hdf5(const std::vector<index_t>& which, const DetectorWindow& r,
                 const View<float, 3, HostSpace>& out) const {
    Hdf5Dataset data(paths_.front(), dataset_, limits_);
    require<io_error>(data.rows() == rows_ && data.cols() == cols_,
                      [&] { return "ProjectionStack: " + data.where() + " changed its shape since it was opened"; });
    const auto view = [&](std::size_t k) { return views_[static_cast<std::size_t>(which[k])]; };
    const index_t step = which.size() > 1 ? view(1) - view(0) : 1;
    bool strided = r.binning == 1 && step >= 1;
    for (std::size_t k = 1; strided && k < which.size(); ++k) strided = view(k) - view(k - 1) == step;
    if (strided) {
      data.read(view(0), step, r.row, r.col, out);
      return;
    }
    Tensor<float, 2> scratch(Extents<2>{r.binning == 1 ? 1 : r.rows, r.binning == 1 ? 1 : r.cols});
    for (std::size_t k = 0; k < which.size(); ++k)
      store(r, scratch, out, static_cast<index_t>(k), [&](const View<float, 2, HostSpace>& window) {
        data.read(view(k), 1, r.row, r.col,
                  View<float, 3, HostSpace>(window.data(), Extents<3>{1, window.extent(0), window.extent(1)}));
      });
  }

  std::vector<std::string> paths_;
  std::string dataset_;         // HDF5: the dataset path
  std::vector<index_t> views_;  // HDF5: the dataset view of each projection
  index_t size_ = 0, rows_ = 0, cols_ = 0;
  Source source_ = Source::files;
  ReadLimits limits_ = ReadLimits::from_environment();
};

}  // namespace pnpdist

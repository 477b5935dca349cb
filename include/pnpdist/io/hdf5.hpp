#pragma once
/// \file
/// Three-dimensional datasets of HDF5 files (NeXus, Data Exchange), views x rows x cols, through the HDF5 C
/// library:
///
///   Hdf5Dataset data(path, "/entry/data/data");    opens the file and the dataset, checks rank and type;
///   data.read(first, step, row, col, out)           views first, first + step, ... (out.extent(0) of them),
///                                                   the window out.extent(1) x out.extent(2) from (row, col),
///                                                   as floats, through one hyperslab selection;
///   read_hdf5_integers(path, "/entry/data/image_key")   a 1-D integer dataset (NeXus image_key);
///   read_hdf5_numbers(path, "/entry/sample/rotation_angle")   a scalar or 1-D numeric dataset as doubles, with
///                                                   its "units" attribute (fixed- or variable-length string).
///
/// Writing: hdf5_writer.hpp (Hdf5Writer, write_hdf5), through the same error handling.
///
/// Read: unsigned 8-, 16- and 32-bit integers and 32- and 64-bit floats, either byte order, contiguous or
/// chunked with the filters the library has (deflate, shuffle); HDF5 converts to float as a C cast would.
/// Sizes are checked before anything is allocated: one full-resolution frame (rows x cols floats) and one
/// chunk must fit ReadLimits::max_allocation_bytes, views x rows x cols must not overflow 64 bits. Memory: the
/// caller's output and HDF5's chunk cache (the chunks that cover one frame, at least 1 MiB, at most the
/// allocation limit). Errors: a missing file, a dataset path that does not exist, another rank, an
/// unsupported type, a truncated or corrupt file, data that was never (or only partly) written: io_error naming
/// the file, the dataset path and the innermost message of HDF5's error stack. HDF5's own printing of its error stack is switched off during each call
/// (H5Eset_auto, restored afterwards). Without the pnpdist::hdf5 component (PNPDIST_HAS_HDF5) every function
/// throws not_compiled.

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "pnpdist/backend/host_space.hpp"
#include "pnpdist/core/errors.hpp"
#include "pnpdist/core/types.hpp"
#include "pnpdist/io/read_limits.hpp"
#include "pnpdist/tensor/view.hpp"

#if defined(PNPDIST_HAS_HDF5)
#include <hdf5.h>
#endif

namespace pnpdist {

/// Element types of the datasets read here.
enum class Hdf5Sample { uint8, uint16, uint32, float32, float64 };

[[nodiscard]] inline const char* to_string(Hdf5Sample s) {
  constexpr const char* names[] = {"uint8", "uint16", "uint32", "float32", "float64"};
  return names[static_cast<int>(s)];
}

namespace detail {

[[noreturn]] inline void hdf5_not_compiled(const char* what) {
  throw not_compiled(std::string(what) + ": HDF5 support was not compiled (link pnpdist::hdf5, needs libhdf5)");
}

#if defined(PNPDIST_HAS_HDF5)
/// An HDF5 identifier closed by `close` (H5Fclose, H5Dclose, ...) when it goes out of scope.
class Hdf5Id {
public:
  Hdf5Id() = default;
  Hdf5Id(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  Hdf5Id(Hdf5Id&& o) noexcept : id_(std::exchange(o.id_, H5I_INVALID_HID)), close_(o.close_) {}
  Hdf5Id& operator=(Hdf5Id&& o) noexcept {
    std::swap(id_, o.id_);
    std::swap(close_, o.close_);
    return *this;
  }
  Hdf5Id(const Hdf5Id&) = delete;
  Hdf5Id& operator=(const Hdf5Id&) = delete;
  ~Hdf5Id() {
    if (id_ >= 0 && close_) close_(id_);
  }
  [[nodiscard]] hid_t get() const { return id_; }
  [[nodiscard]] bool valid() const { return id_ >= 0; }

private:
  hid_t id_ = H5I_INVALID_HID;
  herr_t (*close_)(hid_t) = nullptr;
};

/// Switches HDF5's automatic printing of its error stack off for the lifetime of the guard, then restores it.
class Hdf5Quiet {
public:
  Hdf5Quiet() {
    H5Eget_auto2(H5E_DEFAULT, &function_, &data_);
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  }
  Hdf5Quiet(const Hdf5Quiet&) = delete;
  Hdf5Quiet& operator=(const Hdf5Quiet&) = delete;
  ~Hdf5Quiet() { H5Eset_auto2(H5E_DEFAULT, function_, data_); }

private:
  H5E_auto2_t function_ = nullptr;
  void* data_ = nullptr;
};

/// ": <the innermost message of HDF5's error stack>" (empty when the stack is empty); clears the stack.
inline std::string hdf5_message() {
  std::string message;
  H5Ewalk2(
      H5E_DEFAULT, H5E_WALK_UPWARD,
      [](unsigned n, const H5E_error2_t* e, void* out) -> herr_t {
        if (n == 0 && e->desc != nullptr) *static_cast<std::string*>(out) = std::string(": ") + e->desc;
        return 0;
      },
      &message);
  H5Eclear2(H5E_DEFAULT);
  return message;
}

/// `id`, or io_error "<context><HDF5's message>" when it is negative.
inline Hdf5Id hdf5_check(hid_t id, herr_t (*close)(hid_t), const std::string& context) {
  if (id < 0) throw io_error(context + hdf5_message());
  return Hdf5Id(id, close);
}

/// The scalar string attribute `key` of `object` (fixed or variable length, as h5py writes it), trailing NULs
/// and spaces removed; "" when there is none. io_error "<where>: ..." for another type.
inline std::string hdf5_string_attribute(hid_t object, const std::string& key, const std::string& where,
                                         const ReadLimits& limits) {
  if (H5Aexists(object, key.c_str()) <= 0) {
    H5Eclear2(H5E_DEFAULT);
    return "";
  }
  const std::string what = where + " attribute '" + key + "'";
  const Hdf5Id attribute = hdf5_check(H5Aopen(object, key.c_str(), H5P_DEFAULT), H5Aclose, what);
  const Hdf5Id type = hdf5_check(H5Aget_type(attribute.get()), H5Tclose, what + ": type");
  const Hdf5Id space = hdf5_check(H5Aget_space(attribute.get()), H5Sclose, what + ": dataspace");
  require<io_error>(H5Tget_class(type.get()) == H5T_STRING && H5Sget_simple_extent_npoints(space.get()) == 1,
                    [&] { return what + " is not one string"; });
  std::string text;
  if (H5Tis_variable_str(type.get()) > 0) {
    const Hdf5Id memory = hdf5_check(H5Tcopy(H5T_C_S1), H5Tclose, what + ": type");
    H5Tset_size(memory.get(), H5T_VARIABLE);
    char* value = nullptr;
    if (H5Aread(attribute.get(), memory.get(), &value) < 0) throw io_error(what + ": reading failed" + hdf5_message());
    text = value != nullptr ? value : "";
    H5free_memory(value);
  } else {
    const std::size_t size = H5Tget_size(type.get());
    require_within_allocation_limit(what, size, limits);
    text.assign(size, '\0');
    if (H5Aread(attribute.get(), type.get(), text.data()) < 0) throw io_error(what + ": reading failed" + hdf5_message());
  }
  text = text.substr(0, text.find('\0'));
  return text.substr(0, text.find_last_not_of(' ') + 1);
}

/// Opens an existing file; io_error naming it when it is missing or not a readable HDF5 file.
inline Hdf5Id hdf5_open_file(const std::string& path, unsigned flags, const char* who) {
  std::error_code ec;
  require<io_error>(std::filesystem::is_regular_file(path, ec),
                    [&] { return std::string(who) + ": cannot open '" + path + "': no such file"; });
  return hdf5_check(H5Fopen(path.c_str(), flags, H5P_DEFAULT), H5Fclose,
                    std::string(who) + ": cannot open '" + path + "' as HDF5");
}

/// Whether every link of the absolute path `name` exists in `file` (H5Lexists fails on a missing parent).
inline bool hdf5_link_exists(hid_t file, const std::string& name) {
  std::size_t end = 0;
  while (end != std::string::npos) {
    end = name.find('/', end + 1);
    const std::string prefix = name.substr(0, end);
    if (prefix.empty() || prefix == "/") continue;
    if (H5Lexists(file, prefix.c_str(), H5P_DEFAULT) <= 0) return false;
  }
  return true;
}

/// Opens dataset `name` of `file` ("'path' dataset 'name'" in messages).
inline Hdf5Id hdf5_open_dataset(hid_t file, const std::string& path, const std::string& name, const char* who) {
  require<io_error>(!name.empty() && name[0] == '/' && hdf5_link_exists(file, name), [&] {
    H5Eclear2(H5E_DEFAULT);
    return std::string(who) + ": '" + path + "' has no dataset '" + name + "'";
  });
  return hdf5_check(H5Dopen2(file, name.c_str(), H5P_DEFAULT), H5Dclose,
                    std::string(who) + ": '" + path + "': '" + name + "' is not a dataset");
}

/// Throws io_error "<where>: ... never written" unless every element of `dataset` has storage (virtual datasets
/// excepted: their storage is other files'), and for unfiltered chunks whose stored sizes do not add up. Unwritten
/// elements would read as fill values, and libhdf5 1.10.8 reads past a heap buffer for a chunk index claiming
/// short chunks (fuzz_hdf5), so such data is refused before H5Dread; so is storage larger than the file.
inline void hdf5_require_written(hid_t dataset, const std::string& where) {
  const Hdf5Id creation = hdf5_check(H5Dget_create_plist(dataset), H5Pclose, where + ": creation properties");
  const H5D_layout_t layout = H5Pget_layout(creation.get());
  if (layout == H5D_VIRTUAL) return;
  // No dataset stores more bytes than its file holds (a corrupt chunk index made libhdf5 allocate 2.2 GB for a
  // compressed chunk of a 13 KB file).
  const Hdf5Id file = hdf5_check(H5Iget_file_id(dataset), H5Fclose, where + ": file");
  hsize_t file_bytes = 0;
  const hsize_t stored_bytes = H5Dget_storage_size(dataset);
  require<io_error>(H5Fget_filesize(file.get(), &file_bytes) >= 0 && stored_bytes <= file_bytes, [&] {
    return where + ": its storage of " + std::to_string(stored_bytes) + " bytes exceeds the file's " +
           std::to_string(file_bytes) + " bytes (a corrupt chunk index)" + hdf5_message();
  });
  bool all = false, none = false;
  if (layout == H5D_CHUNKED) {
    // Allocated chunks against those that cover the extents (H5Dget_space_status miscounts edge chunks in 1.10).
    const Hdf5Id space = hdf5_check(H5Dget_space(dataset), H5Sclose, where + ": dataspace");
    const int rank = H5Sget_simple_extent_ndims(space.get());
    hsize_t dims[H5S_MAX_RANK] = {}, chunk[H5S_MAX_RANK] = {};
    hsize_t allocated = 0, needed = 1;
    const bool known = rank >= 0 && rank <= H5S_MAX_RANK &&
                       H5Sget_simple_extent_dims(space.get(), dims, nullptr) == rank &&
                       H5Pget_chunk(creation.get(), rank, chunk) == rank &&
                       H5Dget_num_chunks(dataset, space.get(), &allocated) >= 0;
    for (int d = 0; known && d < rank; ++d)
      needed *= chunk[d] > 0 ? (dims[d] + chunk[d] - 1) / chunk[d] : 0;
    all = known && allocated >= needed;
    none = known && allocated == 0;
    if (all && H5Pget_nfilters(creation.get()) == 0) {
      // Unfiltered chunks are stored whole; a smaller total is a corrupt chunk index, which libhdf5 1.10.8 reads
      // past the end of its buffer (fuzz_hdf5).
      const Hdf5Id type = hdf5_check(H5Dget_type(dataset), H5Tclose, where + ": type");
      hsize_t chunk_bytes = H5Tget_size(type.get());
      for (int d = 0; d < rank; ++d) chunk_bytes *= chunk[d];
      const hsize_t stored = H5Dget_storage_size(dataset);
      require<io_error>(stored == allocated * chunk_bytes, [&] {
        return where + ": its " + std::to_string(allocated) + " unfiltered chunks of " + std::to_string(chunk_bytes) +
               " bytes are stored in " + std::to_string(stored) + " bytes (a corrupt chunk index)" + hdf5_message();
      });
    }
  } else {
    H5D_space_status_t status = H5D_SPACE_STATUS_ERROR;
    all = H5Dget_space_status(dataset, &status) >= 0 && status == H5D_SPACE_STATUS_ALLOCATED;
    none = status == H5D_SPACE_STATUS_NOT_ALLOCATED;
  }
  require<io_error>(all, [&] {
    return where + ": " + (none ? "the data was never written" : "part of the data was never written") +
           " (HDF5 would read fill values)" + hdf5_message();
  });
}

/// The stored element size must be at most `max_bytes` (a corrupt type claiming gigabytes per element made libhdf5
/// allocate that much for its conversion buffer, fuzz_hdf5).
inline void hdf5_require_element_size(hid_t type, std::size_t max_bytes, const std::string& where) {
  const std::size_t bytes = H5Tget_size(type);
  require<io_error>(bytes >= 1 && bytes <= max_bytes, [&] {
    return where + ": elements of " + std::to_string(bytes) + " bytes are not supported (at most " +
           std::to_string(max_bytes) + ")" + hdf5_message();
  });
}

/// A chunked dataset's chunk: its extents and its bytes (the stored element size times the extents).
struct Hdf5Chunk {
  std::vector<index_t> extents;
  std::uint64_t bytes = 0;
};

/// The chunk of a chunked dataset (std::nullopt for another layout), which must fit the limit before H5Dread:
/// libhdf5 allocates a whole chunk to read any part of it (a corrupt chunk size made it allocate 1.9 GB for a
/// 15 KB file, fuzz_hdf5). Throws io_error "<where>: one chunk ..." when it does not fit.
inline std::optional<Hdf5Chunk> hdf5_checked_chunk(hid_t dataset, const std::string& where,
                                                   const ReadLimits& limits) {
  const Hdf5Id creation = hdf5_check(H5Dget_create_plist(dataset), H5Pclose, where + ": creation properties");
  if (H5Pget_layout(creation.get()) != H5D_CHUNKED) return std::nullopt;
  hsize_t chunk[H5S_MAX_RANK] = {};
  const int rank = H5Pget_chunk(creation.get(), H5S_MAX_RANK, chunk);
  require<io_error>(rank >= 1 && rank <= H5S_MAX_RANK,
                    [&] { return where + ": unreadable chunk dimensions" + hdf5_message(); });
  const Hdf5Id type = hdf5_check(H5Dget_type(dataset), H5Tclose, where + ": type");
  Hdf5Chunk result;
  for (int d = 0; d < rank; ++d)
    result.extents.push_back(static_cast<index_t>(std::min<hsize_t>(chunk[d], INT64_MAX)));
  result.bytes = checked_allocation_bytes(where + ": one chunk", result.extents, H5Tget_size(type.get()), limits);
  return result;
}

#endif

}  // namespace detail

/// A 3-D dataset (views, rows, cols) of an HDF5 file, read as floats. Holds the file open; not copyable.
class Hdf5Dataset {
public:
  /// Opens `dataset` (an absolute path such as "/entry/data/data") of `path`. Throws io_error (file comment).
  Hdf5Dataset(std::string path, std::string dataset, const ReadLimits& limits = ReadLimits::from_environment())
      : path_(std::move(path)), name_(std::move(dataset)) {
#if defined(PNPDIST_HAS_HDF5)
    const detail::Hdf5Quiet quiet;
    const std::string where = this->where();
    file_ = detail::hdf5_open_file(path_, H5F_ACC_RDONLY, "Hdf5Dataset");
    const detail::Hdf5Id probe = detail::hdf5_open_dataset(file_.get(), path_, name_, "Hdf5Dataset");
    const detail::Hdf5Id space = detail::hdf5_check(H5Dget_space(probe.get()), H5Sclose, where + ": dataspace");
    const int rank = H5Sget_simple_extent_ndims(space.get());
    require<io_error>(rank == 3,
                      [&] { return where + " has rank " + std::to_string(rank) + ", expected 3 (views, rows, cols)"; });
    hsize_t dims[3] = {0, 0, 0};
    H5Sget_simple_extent_dims(space.get(), dims, nullptr);
    const detail::Hdf5Id type = detail::hdf5_check(H5Dget_type(probe.get()), H5Tclose, where + ": type");
    const H5T_class_t kind = H5Tget_class(type.get());
    const std::size_t bytes = H5Tget_size(type.get());
    if (kind == H5T_INTEGER && H5Tget_sign(type.get()) == H5T_SGN_NONE && (bytes == 1 || bytes == 2 || bytes == 4))
      sample_ = bytes == 1 ? Hdf5Sample::uint8 : bytes == 2 ? Hdf5Sample::uint16 : Hdf5Sample::uint32;
    else if (kind == H5T_FLOAT && (bytes == 4 || bytes == 8))
      sample_ = bytes == 4 ? Hdf5Sample::float32 : Hdf5Sample::float64;
    else
      throw io_error(where + ": elements of class " + std::to_string(static_cast<int>(kind)) + ", " +
                     std::to_string(bytes) + " bytes" + (kind == H5T_INTEGER ? " (signed)" : "") +
                     " are not supported (uint8, uint16, uint32, float32, float64)");
    views_ = static_cast<index_t>(std::min<hsize_t>(dims[0], INT64_MAX));
    rows_ = static_cast<index_t>(std::min<hsize_t>(dims[1], INT64_MAX));
    cols_ = static_cast<index_t>(std::min<hsize_t>(dims[2], INT64_MAX));
    (void)checked_allocation_bytes(where, std::vector<index_t>{views_, rows_, cols_}, 1, ReadLimits{~0ull});
    require<io_error>(views_ >= 1 && rows_ >= 1 && cols_ >= 1, [&] {
      return where + " is empty (" + std::to_string(views_) + " x " + std::to_string(rows_) + " x " +
             std::to_string(cols_) + ")";
    });
    (void)checked_allocation_bytes(where + ": one frame", std::vector<index_t>{rows_, cols_}, sizeof(float), limits);
    // Chunked data: one chunk must fit the limit; the cache holds the chunks covering one frame.
    std::size_t cache = std::size_t{1} << 20;
    if (const auto chunk = detail::hdf5_checked_chunk(probe.get(), where, limits)) {
      const std::vector<index_t>& one = chunk->extents;
      require<io_error>(one.size() == 3 && one[0] > 0 && one[1] > 0 && one[2] > 0,
                        [&] { return where + ": unreadable chunk dimensions" + detail::hdf5_message(); });
      const auto rows = static_cast<std::uint64_t>(one[1]), cols = static_cast<std::uint64_t>(one[2]);
      const std::uint64_t across = ((dims[1] + rows - 1) / rows) * ((dims[2] + cols - 1) / cols);
      std::uint64_t frame_chunks = 0;
      if (checked_multiply(chunk->bytes, across, frame_chunks))
        cache = static_cast<std::size_t>(std::clamp<std::uint64_t>(
            frame_chunks, cache, std::max<std::uint64_t>(limits.max_allocation_bytes, cache)));
    }
    const detail::Hdf5Id access = detail::hdf5_check(H5Pcreate(H5P_DATASET_ACCESS), H5Pclose, where);
    H5Pset_chunk_cache(access.get(), 12421, cache, 1.0);
    dataset_ = detail::hdf5_check(H5Dopen2(file_.get(), name_.c_str(), access.get()), H5Dclose, where);
#else
    (void)limits;
    detail::hdf5_not_compiled("Hdf5Dataset");
#endif
  }

  [[nodiscard]] const std::string& path() const { return path_; }
  [[nodiscard]] const std::string& dataset() const { return name_; }
  /// "'file' dataset '/entry/data/data'", for messages.
  [[nodiscard]] std::string where() const { return "'" + path_ + "' dataset '" + name_ + "'"; }
  [[nodiscard]] index_t views() const { return views_; }
  [[nodiscard]] index_t rows() const { return rows_; }
  [[nodiscard]] index_t cols() const { return cols_; }
  [[nodiscard]] Hdf5Sample sample() const { return sample_; }

  /// Reads views first, first + step, ... (out.extent(0) of them), the window of out's rows x cols with its
  /// first element at (row, col), into the contiguous `out`. Throws invalid_argument when a view or the window
  /// leaves the dataset, io_error when HDF5 cannot read or decode the data.
  void read(index_t first, index_t step, index_t row, index_t col, const View<float, 3, HostSpace>& out) {
#if defined(PNPDIST_HAS_HDF5)
    const index_t n = out.extent(0), rows = out.extent(1), cols = out.extent(2);
    require(n >= 1 && step >= 1 && first >= 0 && first + (n - 1) * step < views_ && row >= 0 && col >= 0 && rows >= 1 &&
                cols >= 1 && row + rows <= rows_ && col + cols <= cols_,
            [&] {
              return "Hdf5Dataset::read: " + std::to_string(n) + " views from " + std::to_string(first) +
                     " in steps of " + std::to_string(step) + ", window " + std::to_string(rows) + " x " +
                     std::to_string(cols) + " at (" + std::to_string(row) + ", " + std::to_string(col) + ") outside " +
                     where() + " (" + std::to_string(views_) + " x " + std::to_string(rows_) + " x " +
                     std::to_string(cols_) + ")";
            });
    require(out.is_contiguous(), "Hdf5Dataset::read needs a contiguous view");
    const detail::Hdf5Quiet quiet;
    detail::hdf5_require_written(dataset_.get(), where());
    const hsize_t start[3] = {static_cast<hsize_t>(first), static_cast<hsize_t>(row), static_cast<hsize_t>(col)};
    const hsize_t stride[3] = {static_cast<hsize_t>(step), 1, 1};
    const hsize_t count[3] = {static_cast<hsize_t>(n), static_cast<hsize_t>(rows), static_cast<hsize_t>(cols)};
    const detail::Hdf5Id file_space =
        detail::hdf5_check(H5Dget_space(dataset_.get()), H5Sclose, where() + ": dataspace");
    const detail::Hdf5Id memory_space =
        detail::hdf5_check(H5Screate_simple(3, count, nullptr), H5Sclose, where() + ": memory dataspace");
    require<io_error>(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start, stride, count, nullptr) >= 0 &&
                          H5Dread(dataset_.get(), H5T_NATIVE_FLOAT, memory_space.get(), file_space.get(), H5P_DEFAULT,
                                  out.data()) >= 0,
                      [&] {
                        return where() + ": reading views " + std::to_string(first) + " .. " +
                               std::to_string(first + (n - 1) * step) + " failed (truncated or corrupt file?)" +
                               detail::hdf5_message();
                      });
#else
    (void)first, (void)step, (void)row, (void)col, (void)out;
    detail::hdf5_not_compiled("Hdf5Dataset::read");
#endif
  }

private:
#if defined(PNPDIST_HAS_HDF5)
  detail::Hdf5Id file_;
  detail::Hdf5Id dataset_;
#endif
  std::string path_, name_;
  index_t views_ = 0, rows_ = 0, cols_ = 0;
  Hdf5Sample sample_ = Hdf5Sample::uint16;
};

/// Whether `path` holds a link at the absolute path `name` (false for a missing file; io_error for a file
/// that is not HDF5).
[[nodiscard]] inline bool hdf5_has(const std::string& path, const std::string& name) {
#if defined(PNPDIST_HAS_HDF5)
  const detail::Hdf5Quiet quiet;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return false;
  const detail::Hdf5Id file = detail::hdf5_open_file(path, H5F_ACC_RDONLY, "hdf5_has");
  const bool found = !name.empty() && name[0] == '/' && detail::hdf5_link_exists(file.get(), name);
  H5Eclear2(H5E_DEFAULT);
  return found;
#else
  (void)path, (void)name;
  detail::hdf5_not_compiled("hdf5_has");
#endif
}

/// The values of the 1-D integer dataset `name` of `path` (such as a NeXus image_key). Throws io_error when it
/// is missing, not 1-D, not of an integer type, or longer than the allocation limit allows.
[[nodiscard]] inline std::vector<std::int64_t> read_hdf5_integers(
    const std::string& path, const std::string& name, const ReadLimits& limits = ReadLimits::from_environment()) {
#if defined(PNPDIST_HAS_HDF5)
  const detail::Hdf5Quiet quiet;
  const std::string where = "read_hdf5_integers: '" + path + "' dataset '" + name + "'";
  const detail::Hdf5Id file = detail::hdf5_open_file(path, H5F_ACC_RDONLY, "read_hdf5_integers");
  const detail::Hdf5Id dataset = detail::hdf5_open_dataset(file.get(), path, name, "read_hdf5_integers");
  const detail::Hdf5Id type = detail::hdf5_check(H5Dget_type(dataset.get()), H5Tclose, where + ": type");
  require<io_error>(H5Tget_class(type.get()) == H5T_INTEGER, [&] { return where + " does not hold integers"; });
  detail::hdf5_require_element_size(type.get(), 8, where);
  const detail::Hdf5Id space = detail::hdf5_check(H5Dget_space(dataset.get()), H5Sclose, where + ": dataspace");
  const int rank = H5Sget_simple_extent_ndims(space.get());
  require<io_error>(rank == 1, [&] { return where + " has rank " + std::to_string(rank) + ", expected 1"; });
  hsize_t n = 0;
  H5Sget_simple_extent_dims(space.get(), &n, nullptr);
  const index_t count = static_cast<index_t>(std::min<hsize_t>(n, INT64_MAX));
  (void)checked_allocation_bytes(where, std::vector<index_t>{count}, sizeof(std::int64_t), limits);
  std::vector<std::int64_t> out(static_cast<std::size_t>(count));
  if (count > 0) detail::hdf5_require_written(dataset.get(), where);
  if (count > 0) (void)detail::hdf5_checked_chunk(dataset.get(), where, limits);
  if (count > 0 && H5Dread(dataset.get(), H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()) < 0)
    throw io_error(where + ": reading failed (truncated or corrupt file?)" + detail::hdf5_message());
  return out;
#else
  (void)path, (void)name, (void)limits;
  detail::hdf5_not_compiled("read_hdf5_integers");
#endif
}

/// The values of a scalar or 1-D numeric dataset and its "units" attribute (read_hdf5_numbers).
struct Hdf5Numbers {
  std::vector<double> values;
  std::string units;  ///< "" when the dataset has no units attribute
};

/// The values (as doubles) and units of the scalar or 1-D integer or float dataset `name` of `path` (NeXus
/// fields such as rotation_angle or x_pixel_size). Throws io_error when it is missing, of another rank or
/// type, longer than the allocation limit allows, or has a units attribute that is not a string.
[[nodiscard]] inline Hdf5Numbers read_hdf5_numbers(const std::string& path, const std::string& name,
                                                   const ReadLimits& limits = ReadLimits::from_environment()) {
#if defined(PNPDIST_HAS_HDF5)
  const detail::Hdf5Quiet quiet;
  const std::string where = "read_hdf5_numbers: '" + path + "' dataset '" + name + "'";
  const detail::Hdf5Id file = detail::hdf5_open_file(path, H5F_ACC_RDONLY, "read_hdf5_numbers");
  const detail::Hdf5Id dataset = detail::hdf5_open_dataset(file.get(), path, name, "read_hdf5_numbers");
  const detail::Hdf5Id type = detail::hdf5_check(H5Dget_type(dataset.get()), H5Tclose, where + ": type");
  const H5T_class_t kind = H5Tget_class(type.get());
  require<io_error>(kind == H5T_INTEGER || kind == H5T_FLOAT, [&] { return where + " does not hold numbers"; });
  detail::hdf5_require_element_size(type.get(), kind == H5T_INTEGER ? 8 : 16, where);
  const detail::Hdf5Id space = detail::hdf5_check(H5Dget_space(dataset.get()), H5Sclose, where + ": dataspace");
  const int rank = H5Sget_simple_extent_ndims(space.get());
  require<io_error>(rank == 0 || rank == 1, [&] { return where + " has rank " + std::to_string(rank) + ", expected 0 or 1"; });
  const auto count = static_cast<index_t>(std::min<hssize_t>(H5Sget_simple_extent_npoints(space.get()), INT64_MAX));
  (void)checked_allocation_bytes(where, std::vector<index_t>{count}, sizeof(double), limits);
  Hdf5Numbers out;
  out.values.resize(static_cast<std::size_t>(count));
  if (count > 0) detail::hdf5_require_written(dataset.get(), where);
  if (count > 0) (void)detail::hdf5_checked_chunk(dataset.get(), where, limits);
  if (count > 0 && H5Dread(dataset.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.values.data()) < 0)
    throw io_error(where + ": reading failed (truncated or corrupt file?)" + detail::hdf5_message());
  out.units = detail::hdf5_string_attribute(dataset.get(), "units", where, limits);
  return out;
#else
  (void)path, (void)name, (void)limits;
  detail::hdf5_not_compiled("read_hdf5_numbers");
#endif
}

}  // namespace pnpdist

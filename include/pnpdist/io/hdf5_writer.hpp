#pragma once
/// \file
/// Writing HDF5 files (NeXus NXtomo, Data Exchange) through the HDF5 C library, with the reader's error
/// handling (hdf5.hpp: io_error naming the file and the dataset path with HDF5's innermost message, HDF5's own
/// printing of its error stack switched off during each call):
///
///   Hdf5Writer out(path);                             creates (truncates) the file; {.append = true} opens it
///   out.create_stack<std::uint16_t>(name, v, r, c, o) a (v, r, c) dataset (contiguous, or chunked per
///                                                     o.chunk_views views and deflated), to be filled by
///   out.write_frame(name, k, frame)                   its view k from a rows x cols view (memory: one frame)
///   out.write(name, stack, o)                         a whole (views, rows, cols) stack of any strides
///   out.write(name, span<const int32_t | double>, o)  a 1-D dataset (a NeXus image_key, rotation angles)
///   out.write_scalar(name, value)                     a scalar float64 dataset (a distance, a pixel size)
///   out.set_attribute(name, key, text)                a string attribute of a group or dataset (NX_class,
///                                                     units, ...); the group is created if missing
///   out.write_text(name, text)                        a scalar string dataset (NXentry's definition)
///   out.link(target, name)                            a hard link: `name` is another path to `target`
///   write_hdf5(path, dataset, stack | span, o)        one dataset in one call
///
/// Element types: uint8, uint16, uint32, int32, float and double. Groups on the way to a dataset are created.
/// Every dataset reads back bit for bit (Hdf5Dataset, read_hdf5_integers, read_hdf5_numbers). Errors: a file
/// that cannot be created, an existing dataset, a frame of another shape or outside the dataset, a failed
/// write or flush: io_error "... '<file>' dataset '<name>': ...". Without the pnpdist::hdf5 component
/// (PNPDIST_HAS_HDF5) every function throws not_compiled.

#include <algorithm>
#include <cstdint>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "pnpdist/backend/host_space.hpp"
#include "pnpdist/core/errors.hpp"
#include "pnpdist/core/types.hpp"
#include "pnpdist/io/hdf5.hpp"
#include "pnpdist/tensor/view.hpp"

namespace pnpdist {

/// How a dataset is created and whether the file is appended to (write_hdf5).
struct Hdf5WriteOptions {
  bool append = false;      ///< add to an existing file (false: create or truncate it)
  index_t chunk_views = 0;  ///< > 0: chunks of (chunk_views, rows, cols); 0: contiguous
  int deflate = 0;          ///< 1 .. 9: gzip level of the chunks (needs chunk_views > 0)
};

namespace detail {

#if defined(PNPDIST_HAS_HDF5)
template <class T>
inline hid_t hdf5_native_type() {
  static_assert(std::is_same_v<T, std::uint8_t> || std::is_same_v<T, std::uint16_t> ||
                    std::is_same_v<T, std::uint32_t> || std::is_same_v<T, std::int32_t> || std::is_same_v<T, float> ||
                    std::is_same_v<T, double>,
                "Hdf5Writer: elements must be uint8_t, uint16_t, uint32_t, int32_t, float or double");
  if constexpr (std::is_same_v<T, std::uint8_t>)
    return H5T_NATIVE_UINT8;
  else if constexpr (std::is_same_v<T, std::uint16_t>)
    return H5T_NATIVE_UINT16;
  else if constexpr (std::is_same_v<T, std::uint32_t>)
    return H5T_NATIVE_UINT32;
  else if constexpr (std::is_same_v<T, std::int32_t>)
    return H5T_NATIVE_INT32;
  else if constexpr (std::is_same_v<T, float>)
    return H5T_NATIVE_FLOAT;
  else
    return H5T_NATIVE_DOUBLE;
}

/// io_error "<context><HDF5's message>" when an HDF5 call returned a negative status.
inline void hdf5_check_status(herr_t status, const std::string& context) {
  if (status < 0) throw io_error(context + hdf5_message());
}
#endif

}  // namespace detail

/// An HDF5 file open for writing (file comment). Holds the file open; not copyable.
class Hdf5Writer {
public:
  explicit Hdf5Writer(std::string path, const Hdf5WriteOptions& o = {}) : path_(std::move(path)) {
#if defined(PNPDIST_HAS_HDF5)
    const detail::Hdf5Quiet quiet;
    file_ = o.append ? detail::hdf5_open_file(path_, H5F_ACC_RDWR, "Hdf5Writer")
                     : detail::hdf5_check(H5Fcreate(path_.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose,
                                          "Hdf5Writer: cannot create '" + path_ + "'");
#else
    (void)o;
    detail::hdf5_not_compiled("Hdf5Writer");
#endif
  }

  [[nodiscard]] const std::string& path() const { return path_; }
  /// "Hdf5Writer: 'file' dataset 'name'", for messages.
  [[nodiscard]] std::string context(const std::string& name) const {
    return "Hdf5Writer: '" + path_ + "' dataset '" + name + "'";
  }

  /// Creates the (views, rows, cols) dataset `name` of element type T, to be filled by write_frame.
  template <class T>
  void create_stack(const std::string& name, index_t views, index_t rows, index_t cols,
                    const Hdf5WriteOptions& o = {}) {
    require(views >= 1 && rows >= 1 && cols >= 1, [&] { return context(name) + ": empty stack"; });
    create<T>(name, {static_cast<std::uint64_t>(views), static_cast<std::uint64_t>(rows),
                     static_cast<std::uint64_t>(cols)},
              o);
  }

  /// Writes `frame` (rows x cols, any strides) as view k of the 3-D dataset `name`.
  template <class T>
  void write_frame(const std::string& name, index_t k, const View<const T, 2, HostSpace>& frame) {
#if defined(PNPDIST_HAS_HDF5)
    const detail::Hdf5Quiet quiet;
    const detail::Hdf5Id dataset = detail::hdf5_open_dataset(file_.get(), path_, name, "Hdf5Writer");
    const detail::Hdf5Id file_space =
        detail::hdf5_check(H5Dget_space(dataset.get()), H5Sclose, context(name) + ": dataspace");
    hsize_t dims[3] = {0, 0, 0};
    require<io_error>(H5Sget_simple_extent_ndims(file_space.get()) == 3 &&
                          H5Sget_simple_extent_dims(file_space.get(), dims, nullptr) == 3 && k >= 0 &&
                          static_cast<hsize_t>(k) < dims[0] && dims[1] == static_cast<hsize_t>(frame.extent(0)) &&
                          dims[2] == static_cast<hsize_t>(frame.extent(1)),
                      [&] {
                        return context(name) + ": frame " + std::to_string(k) + " of " +
                               std::to_string(frame.extent(0)) + " x " + std::to_string(frame.extent(1)) +
                               " does not fit the dataset (" + std::to_string(dims[0]) + " x " +
                               std::to_string(dims[1]) + " x " + std::to_string(dims[2]) + ")";
                      });
    const hsize_t start[3] = {static_cast<hsize_t>(k), 0, 0};
    const hsize_t count[3] = {1, dims[1], dims[2]};
    const detail::Hdf5Id memory_space =
        detail::hdf5_check(H5Screate_simple(3, count, nullptr), H5Sclose, context(name) + ": memory dataspace");
    detail::hdf5_check_status(
        H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start, nullptr, count, nullptr), context(name));
    const std::vector<T> packed = pack(frame);
    detail::hdf5_check_status(H5Dwrite(dataset.get(), detail::hdf5_native_type<T>(), memory_space.get(),
                                       file_space.get(), H5P_DEFAULT, packed.data()),
                              context(name) + ": writing frame " + std::to_string(k) + " failed");
#else
    (void)name, (void)k, (void)frame;
    detail::hdf5_not_compiled("Hdf5Writer::write_frame");
#endif
  }

  /// Writes `stack` (views, rows, cols; any strides) as the new dataset `name`.
  template <class T>
  void write(const std::string& name, const View<const T, 3, HostSpace>& stack, const Hdf5WriteOptions& o = {}) {
    const std::vector<T> packed = pack(stack);
    create<T>(name,
              {static_cast<std::uint64_t>(stack.extent(0)), static_cast<std::uint64_t>(stack.extent(1)),
               static_cast<std::uint64_t>(stack.extent(2))},
              o, packed.data());
  }

  /// Writes `values` as the new 1-D dataset `name` (int32 or float64).
  template <class T>
    requires std::is_same_v<T, std::int32_t> || std::is_same_v<T, double>
  void write(const std::string& name, std::span<const T> values, const Hdf5WriteOptions& o = {}) {
    create<T>(name, {static_cast<std::uint64_t>(values.size())}, o, values.data());
  }

  /// Writes `value` as the new scalar float64 dataset `name`.
  void write_scalar(const std::string& name, double value) { create<double>(name, {}, {}, &value); }

  /// Sets the string attribute `key` of the group or dataset `name` (a group is created when nothing is there).
  void set_attribute(const std::string& name, const std::string& key, const std::string& value) {
#if defined(PNPDIST_HAS_HDF5)
    const detail::Hdf5Quiet quiet;
    const std::string where = "Hdf5Writer: '" + path_ + "' attribute '" + name + "@" + key + "'";
    if (name != "/" && !detail::hdf5_link_exists(file_.get(), name)) {
      H5Eclear2(H5E_DEFAULT);
      const detail::Hdf5Id links = link_properties(where);
      (void)detail::hdf5_check(H5Gcreate2(file_.get(), name.c_str(), links.get(), H5P_DEFAULT, H5P_DEFAULT),
                               H5Gclose, where + ": cannot create the group");
    }
    const detail::Hdf5Id object =
        detail::hdf5_check(H5Oopen(file_.get(), name.c_str(), H5P_DEFAULT), H5Oclose, where + ": cannot open");
    const detail::Hdf5Id type = string_type(value, where);
    const detail::Hdf5Id space = detail::hdf5_check(H5Screate(H5S_SCALAR), H5Sclose, where + ": dataspace");
    if (H5Aexists(object.get(), key.c_str()) > 0) H5Adelete(object.get(), key.c_str());
    const detail::Hdf5Id attribute =
        detail::hdf5_check(H5Acreate2(object.get(), key.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT),
                           H5Aclose, where + ": cannot create");
    detail::hdf5_check_status(H5Awrite(attribute.get(), type.get(), value.c_str()), where + ": writing failed");
#else
    (void)name, (void)key, (void)value;
    detail::hdf5_not_compiled("Hdf5Writer::set_attribute");
#endif
  }

  /// Writes `text` as the new scalar string dataset `name` (such as NXentry's definition).
  void write_text(const std::string& name, const std::string& text) {
#if defined(PNPDIST_HAS_HDF5)
    const detail::Hdf5Quiet quiet;
    const std::string where = context(name);
    const detail::Hdf5Id type = string_type(text, where);
    const detail::Hdf5Id space = detail::hdf5_check(H5Screate(H5S_SCALAR), H5Sclose, where + ": dataspace");
    const detail::Hdf5Id links = link_properties(where);
    const detail::Hdf5Id dataset =
        detail::hdf5_check(H5Dcreate2(file_.get(), name.c_str(), type.get(), space.get(), links.get(), H5P_DEFAULT,
                                      H5P_DEFAULT),
                           H5Dclose, where + ": cannot create");
    detail::hdf5_check_status(H5Dwrite(dataset.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, text.c_str()),
                              where + ": writing failed");
#else
    (void)name, (void)text;
    detail::hdf5_not_compiled("Hdf5Writer::write_text");
#endif
  }

  /// Makes `name` a hard link to the existing object `target` (groups on the way created).
  void link(const std::string& target, const std::string& name) {
#if defined(PNPDIST_HAS_HDF5)
    const detail::Hdf5Quiet quiet;
    const std::string where = "Hdf5Writer: '" + path_ + "' link '" + name + "' to '" + target + "'";
    const detail::Hdf5Id links = link_properties(where);
    detail::hdf5_check_status(
        H5Lcreate_hard(file_.get(), target.c_str(), file_.get(), name.c_str(), links.get(), H5P_DEFAULT), where);
#else
    (void)target, (void)name;
    detail::hdf5_not_compiled("Hdf5Writer::link");
#endif
  }

  /// Writes everything buffered to the file.
  void flush() {
#if defined(PNPDIST_HAS_HDF5)
    const detail::Hdf5Quiet quiet;
    detail::hdf5_check_status(H5Fflush(file_.get(), H5F_SCOPE_LOCAL),
                              "Hdf5Writer: flushing '" + path_ + "' failed");
#else
    detail::hdf5_not_compiled("Hdf5Writer::flush");
#endif
  }

private:
  template <class T, std::size_t R>
  static std::vector<T> pack(const View<const T, R, HostSpace>& v) {
    std::vector<T> packed(static_cast<std::size_t>(v.size()));
    std::size_t i = 0;
    if constexpr (R == 2) {
      for (index_t r = 0; r < v.extent(0); ++r)
        for (index_t c = 0; c < v.extent(1); ++c) packed[i++] = v(r, c);
    } else {
      for (index_t k = 0; k < v.extent(0); ++k)
        for (index_t r = 0; r < v.extent(1); ++r)
          for (index_t c = 0; c < v.extent(2); ++c) packed[i++] = v(k, r, c);
    }
    return packed;
  }

#if defined(PNPDIST_HAS_HDF5)
  /// A fixed-length, null-terminated string type that holds `text`.
  static detail::Hdf5Id string_type(const std::string& text, const std::string& where) {
    detail::Hdf5Id type = detail::hdf5_check(H5Tcopy(H5T_C_S1), H5Tclose, where + ": type");
    detail::hdf5_check_status(H5Tset_size(type.get(), text.size() + 1), where + ": type");
    detail::hdf5_check_status(H5Tset_strpad(type.get(), H5T_STR_NULLTERM), where + ": type");
    return type;
  }

  /// Link creation properties that create the groups on the way.
  static detail::Hdf5Id link_properties(const std::string& where) {
    detail::Hdf5Id links = detail::hdf5_check(H5Pcreate(H5P_LINK_CREATE), H5Pclose, where);
    detail::hdf5_check_status(H5Pset_create_intermediate_group(links.get(), 1), where);
    return links;
  }
#endif

  /// Creates dataset `name` with extents `dims` (none: a scalar) and, when `data` is given, writes it.
  template <class T>
  void create(const std::string& name, const std::vector<std::uint64_t>& dims, const Hdf5WriteOptions& o,
              const T* data = nullptr) {
#if defined(PNPDIST_HAS_HDF5)
    const detail::Hdf5Quiet quiet;
    const std::string where = context(name);
    require(!name.empty() && name[0] == '/', [&] { return where + ": the dataset path must start with '/'"; });
    require(o.chunk_views >= 0 && o.deflate >= 0 && o.deflate <= 9 && (o.deflate == 0 || o.chunk_views > 0) &&
                (o.chunk_views == 0 || !dims.empty()),
            [&] { return where + ": chunk_views must be >= 0, deflate in 0 .. 9 and needs chunk_views > 0"; });
    const std::vector<hsize_t> extents(dims.begin(), dims.end());
    const detail::Hdf5Id space = detail::hdf5_check(
        extents.empty() ? H5Screate(H5S_SCALAR)
                        : H5Screate_simple(static_cast<int>(extents.size()), extents.data(), nullptr),
        H5Sclose, where + ": dataspace");
    const detail::Hdf5Id links = link_properties(where);
    const detail::Hdf5Id creation = detail::hdf5_check(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, where);
    if (o.chunk_views > 0) {
      std::vector<hsize_t> chunk = extents;
      chunk[0] = std::min<hsize_t>(static_cast<hsize_t>(o.chunk_views), std::max<hsize_t>(extents[0], 1));
      for (hsize_t& c : chunk) c = std::max<hsize_t>(c, 1);
      detail::hdf5_check_status(H5Pset_chunk(creation.get(), static_cast<int>(chunk.size()), chunk.data()),
                                where + ": chunks");
      if (o.deflate > 0)
        detail::hdf5_check_status(H5Pset_deflate(creation.get(), static_cast<unsigned>(o.deflate)),
                                  where + ": deflate");
    }
    const detail::Hdf5Id dataset = detail::hdf5_check(H5Dcreate2(file_.get(), name.c_str(), detail::hdf5_native_type<T>(),
                                                                 space.get(), links.get(), creation.get(), H5P_DEFAULT),
                                                      H5Dclose, where + ": cannot create");
    if (data != nullptr)
      detail::hdf5_check_status(
          H5Dwrite(dataset.get(), detail::hdf5_native_type<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, data),
          where + ": writing failed");
#else
    (void)name, (void)dims, (void)o, (void)data;
    detail::hdf5_not_compiled("Hdf5Writer");
#endif
  }

#if defined(PNPDIST_HAS_HDF5)
  detail::Hdf5Id file_;
#endif
  std::string path_;
};

/// Writes `stack` (views, rows, cols; any strides) as dataset `name` of `path` with elements of type T (uint8_t,
/// uint16_t, uint32_t, int32_t, float or double): Hdf5Dataset reads the same values back. Groups on the way are
/// created. Throws io_error when the file cannot be written or the dataset exists.
template <class T>
inline void write_hdf5(const std::string& path, const std::string& name, const View<const T, 3, HostSpace>& stack,
                       const Hdf5WriteOptions& o = {}) {
  Hdf5Writer out(path, o);
  out.write(name, stack, o);
  out.flush();
}

/// write_hdf5 for a stack of mutable elements.
template <class T>
inline void write_hdf5(const std::string& path, const std::string& name, const View<T, 3, HostSpace>& stack,
                       const Hdf5WriteOptions& o = {}) {
  write_hdf5<std::remove_const_t<T>>(path, name, View<const std::remove_const_t<T>, 3, HostSpace>(stack), o);
}

/// Writes `values` as the 1-D int32 dataset `name` of `path` (such as a NeXus image_key; chunk_views and
/// deflate apply to its one dimension).
inline void write_hdf5(const std::string& path, const std::string& name, std::span<const std::int32_t> values,
                       const Hdf5WriteOptions& o = {}) {
  Hdf5Writer out(path, o);
  out.write(name, values, o);
  out.flush();
}

}  // namespace pnpdist

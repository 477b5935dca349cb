// Hdf5Writer: a stack filled frame by frame (strided frames, any order) reads back bit for bit through
// Hdf5Dataset, as does one written whole; 1-D, scalar, string datasets, attributes and hard links are what the
// HDF5 C API reads; errors (an existing dataset, a frame outside or of another shape, a link to nothing, a file
// that cannot be created) are io_errors naming the file and the dataset, and HDF5 prints nothing meanwhile.
#include <catch2/catch.hpp>

#include "io/bad_input_support.hpp"

#include <pnpdist/io/hdf5.hpp>
#include <pnpdist/io/hdf5_writer.hpp>
#include <pnpdist/tensor/owning_tensor.hpp>

#include <hdf5.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

using namespace pnpdist;

namespace {

// The string attribute `key` of object `name`, through the C API.
std::string attribute(hid_t file, const std::string& name, const std::string& key) {
  const hid_t object = H5Oopen(file, name.c_str(), H5P_DEFAULT);
  const hid_t a = H5Aopen(object, key.c_str(), H5P_DEFAULT);
  const hid_t type = H5Aget_type(a);
  std::string value(H5Tget_size(type), '\0');
  H5Aread(a, type, value.data());
  H5Tclose(type), H5Aclose(a), H5Oclose(object);
  return value.substr(0, value.find('\0'));
}

}  // namespace

TEST_CASE("Hdf5Writer writes stacks frame by frame and reads back bit for bit", "[io][hdf5]") {
  const std::string path = test::bad_input_path("frames.h5");
  Tensor<std::uint16_t, 3> data(Extents<3>{4, 3, 5});
  for (index_t i = 0; i < data.size(); ++i) data.data()[i] = static_cast<std::uint16_t>(i * 1237 % 65536);
  Tensor<std::uint16_t, 2> transposed(Extents<2>{5, 3});  // read through a strided view below
  {
    Hdf5Writer out(path);
    out.create_stack<std::uint16_t>("/entry/instrument/detector/data", 4, 3, 5, {.chunk_views = 1, .deflate = 2});
    for (const index_t k : {2, 0, 3, 1}) {
      for (index_t r = 0; r < 3; ++r)
        for (index_t c = 0; c < 5; ++c) transposed(c, r) = data(k, r, c);
      const View<const std::uint16_t, 2, HostSpace> frame(transposed.data(), Extents<2>{3, 5},
                                                          Extents<2>{1, 3});
      out.write_frame("/entry/instrument/detector/data", k, frame);
    }
    out.write("/whole", data.const_view());
    const std::vector<double> angles = {0.0, 0.1, 1.0 / 3.0};
    const std::vector<std::int32_t> keys = {2, 1, 0};
    out.write("/entry/sample/rotation_angle", std::span<const double>(angles));
    out.write("/entry/data/image_key", std::span<const std::int32_t>(keys));
    out.write_scalar("/entry/instrument/detector/distance", 1.0 / 7.0);
    out.set_attribute("/entry/instrument/detector/distance", "units", "mm");
    out.set_attribute("/entry/instrument/source", "NX_class", "NXsource");  // a new group
    out.set_attribute("/entry", "NX_class", "NXentry");
    out.set_attribute("/entry", "NX_class", "NXentry");  // replaced
    out.write_text("/entry/definition", "NXtomo");
    out.link("/entry/instrument/detector/data", "/entry/data/data");
    out.flush();
  }
  for (const char* name : {"/entry/instrument/detector/data", "/entry/data/data", "/whole"}) {
    Hdf5Dataset d(path, name);
    REQUIRE(d.sample() == Hdf5Sample::uint16);
    Tensor<float, 3> got(Extents<3>{4, 3, 5});
    d.read(0, 1, 0, 0, got.view());
    for (index_t i = 0; i < data.size(); ++i) REQUIRE(got.data()[i] == static_cast<float>(data.data()[i]));
  }
  CHECK(read_hdf5_integers(path, "/entry/data/image_key") == std::vector<std::int64_t>{2, 1, 0});
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  REQUIRE(file >= 0);
  std::vector<double> angles(3);
  double distance = 0;
  const hid_t a = H5Dopen2(file, "/entry/sample/rotation_angle", H5P_DEFAULT);
  H5Dread(a, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, angles.data());
  H5Dclose(a);
  const hid_t d = H5Dopen2(file, "/entry/instrument/detector/distance", H5P_DEFAULT);
  H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, &distance);
  H5Dclose(d);
  CHECK(angles == std::vector<double>{0.0, 0.1, 1.0 / 3.0});
  CHECK(distance == 1.0 / 7.0);
  CHECK(attribute(file, "/entry/instrument/detector/distance", "units") == "mm");
  CHECK(attribute(file, "/entry/instrument/source", "NX_class") == "NXsource");
  CHECK(attribute(file, "/entry", "NX_class") == "NXentry");
  const hid_t text = H5Dopen2(file, "/entry/definition", H5P_DEFAULT);
  const hid_t type = H5Dget_type(text);
  std::string definition(H5Tget_size(type), '\0');
  H5Dread(text, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, definition.data());
  H5Tclose(type), H5Dclose(text);
  CHECK(definition.substr(0, definition.find('\0')) == "NXtomo");
  H5Fclose(file);
}

TEST_CASE("Hdf5Writer errors name the file and the dataset and print nothing", "[io][hdf5]") {
  const std::string path = test::bad_input_path("errors.h5");
  Hdf5Writer out(path);
  out.create_stack<float>("/stack", 2, 3, 4);
  const Tensor<float, 2> frame(Extents<2>{3, 4});
  const Tensor<float, 2> odd(Extents<2>{3, 5});
  const std::string printed = test::stderr_of([&] {
    test::require_error<io_error>([&] { out.create_stack<float>("/stack", 2, 3, 4); },
                                  {"'" + path + "' dataset '/stack': cannot create"});
    test::require_error<io_error>([&] { out.write_frame("/stack", 2, frame.const_view()); },
                                  {"'" + path + "' dataset '/stack': frame 2 of 3 x 4 does not fit the dataset (2 x 3 x 4)"});
    test::require_error<io_error>([&] { out.write_frame("/stack", 0, odd.const_view()); }, {"frame 0 of 3 x 5"});
    test::require_error<io_error>([&] { out.write_frame("/missing", 0, frame.const_view()); },
                                  {"'" + path + "' has no dataset '/missing'"});
    test::require_error<io_error>([&] { out.link("/nothing", "/other"); },
                                  {"'" + path + "' link '/other' to '/nothing'"});
    test::require_error<io_error>([&] { Hdf5Writer(path + ".d/absent/file.h5"); },
                                  {"cannot create '" + path + ".d/absent/file.h5'"});
    test::require_error<io_error>([&] { Hdf5Writer(test::bad_input_path("absent.h5"), {.append = true}); },
                                  {"absent.h5': no such file"});
  });
  CHECK(printed.empty());
  out.write_frame("/stack", 1, frame.const_view());  // the writer still works
  out.flush();
}

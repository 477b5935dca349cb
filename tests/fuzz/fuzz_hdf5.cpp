// libFuzzer target: the HDF5 / NeXus readers (libhdf5) on a file of the input's bytes: Hdf5Dataset on
// /entry/data/data (its fields and a window of up to 2 x 16 x 16 samples), read_hdf5_numbers on the NeXus
// rotation angles, and ct::read_scan on the file as a whole (image_key, NeXus or Data Exchange geometry, darks
// and flats, preprocessing) on a small volume. The readers that take no ReadLimits read
// PNPDIST_MAX_ALLOCATION, set to 64 MiB here as fuzz_limits() has it. libhdf5 itself is not instrumented:
// libFuzzer's coverage is that of pnpdist's code, and a crash inside libhdf5 shows as a signal.
#include <pnpdist/backend/serial.hpp>
#include <pnpdist/io/hdf5.hpp>
#include <pnpdist/physics/ct/scan_directory.hpp>
#include <pnpdist/tensor/owning_tensor.hpp>

#include <algorithm>
#include <cstdlib>

#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  ::setenv("PNPDIST_MAX_ALLOCATION", "64M", 1);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string& path = pnpdist::fuzz::write_input(data, size, ".nxs");
  const pnpdist::ReadLimits limits = pnpdist::fuzz::fuzz_limits();
  pnpdist::fuzz::run([&] {
    pnpdist::Hdf5Dataset d(path, "/entry/data/data", limits);
    pnpdist::Tensor<float, 3, pnpdist::HostSpace> window(pnpdist::Extents<3>{std::min<pnpdist::index_t>(d.views(), 2),
                                                                             std::min<pnpdist::index_t>(d.rows(), 16),
                                                                             std::min<pnpdist::index_t>(d.cols(), 16)});
    d.read(d.views() - window.extent(0), 1, 0, d.cols() - window.extent(2), window.view());
  });
  pnpdist::fuzz::run([&] { (void)pnpdist::read_hdf5_numbers(path, "/entry/sample/rotation_angle", limits); });
  pnpdist::fuzz::run([&] {
    pnpdist::ct::ScanReadOptions options;
    options.block = 4;
    (void)pnpdist::ct::read_scan(pnpdist::Serial{}, path, {8, 8, 8, 1.0, 1.0, 1.0}, options);
  });
  return 0;
}

// libFuzzer target: TiffReader (libtiff) with the allocation limit: every page's fields, and a window of up to
// 64 x 64 samples of each of the first four pages.
#include <pnpdist/io/tiff.hpp>
#include <pnpdist/tensor/owning_tensor.hpp>

#include <algorithm>

#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string& path = pnpdist::fuzz::write_input(data, size);
  return pnpdist::fuzz::run([&] {
    pnpdist::TiffReader reader(path, pnpdist::fuzz::fuzz_limits());
    for (pnpdist::index_t p = 0; p < std::min<pnpdist::index_t>(reader.pages(), 4); ++p) {
      const pnpdist::TiffPage page = reader.page(p);
      pnpdist::Tensor<float, 2, pnpdist::HostSpace> window(
          pnpdist::Extents<2>{std::min<pnpdist::index_t>(page.rows, 64), std::min<pnpdist::index_t>(page.cols, 64)});
      reader.read(p, page.rows - window.extent(0), 0, window.view());
    }
  });
}

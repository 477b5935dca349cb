// export_projector_matrix: writes the 2D parallel-beam Joseph projector of examples/tomography_2d as a sparse
// matrix (CSR), for tools/compare_deepinv.py (a DeepInv LinearPhysics with exactly pnpdist's operator).
//
// The geometry is built exactly as examples/tomography_2d.cpp builds it: a size x size image over the unit
// square (pixel 1/size), `angles` parallel-beam views uniform in [0, 180) degrees onto `size` bins of
// 1/size, split by ct::split_views into `operators` contiguous blocks (100 views in 8: 13,13,13,13,12,12,12,12).
//
// Row r = view * size + bin of the full sinogram (views x bins, row-major; stacking the blocks in order gives
// it, so block k is the row range of its views), column = i * size + j of the image (row-major). Row r is
// A^T e_r: the adjoint of the single-view projector of that view applied to a unit vector (a single-view
// projector and the same view inside its block compute every ray in the same way; the check below confirms
// it). Each block's matrix is then checked against the example's block projector (JosephProjector2D over
// the block's geometry): forward on a random image and adjoint on a random sinogram, max relative error.
//
//   cmake --build BUILD --target export_projector_matrix      (built with the examples, not by default)
//   BUILD/examples/export_projector_matrix OUT_DIR [size 256] [angles 100] [operators 8]
//
// Writes OUT_DIR/projector_indptr.npy (int64, rows + 1), projector_indices.npy (int64), projector_data.npy
// (float32), projector_blocks.npy (int64: the views of each block) and projector.json (shapes, blocks, check).
#include <pnpdist/backend/serial.hpp>
#include <pnpdist/core/errors.hpp>
#include <pnpdist/io/npy.hpp>
#include <pnpdist/physics/ct/ct.hpp>
#include <pnpdist/tensor/random.hpp>
#include <pnpdist/tensor/tensor.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <numbers>
#include <string>
#include <vector>

using pnpdist::Extents;
using pnpdist::index_t;
using pnpdist::Tensor;
namespace ct = pnpdist::ct;

namespace {

using Exec = pnpdist::Serial;
using Projector = ct::JosephProjector2D<float, Exec>;

template <class T>
void write_vector(const std::filesystem::path& path, const std::vector<T>& values) {
  Tensor<T, 1> t(Extents<1>{static_cast<index_t>(values.size())});
  std::copy(values.begin(), values.end(), t.data());
  pnpdist::write_npy(path.string(), t.const_view());
}

int run(int argc, char** argv) {
  if (argc < 2 || std::string(argv[1]) == "--help") {
    std::fprintf(stderr, "usage: export_projector_matrix OUT_DIR [size 256] [angles 100] [operators 8]\n");
    return argc < 2 ? 2 : 0;
  }
  const std::filesystem::path out(argv[1]);
  const index_t size = argc > 2 ? std::atol(argv[2]) : 256;
  const index_t angles = argc > 3 ? std::atol(argv[3]) : 100;
  const index_t operators = argc > 4 ? std::atol(argv[4]) : 8;
  std::filesystem::create_directories(out);
  const Exec exec{};
  const auto start = std::chrono::steady_clock::now();

  // The geometry of examples/tomography_2d.cpp.
  const double pixel = 1.0 / static_cast<double>(size);
  const ct::VolumeGeometry2D volume{size, size, pixel, pixel};
  const ct::Geometry2D geometry = ct::parallel_beam_2d(ct::uniform_angles(angles, 0.0, std::numbers::pi),
                                                       ct::Detector2D{size, pixel, 0.0}, volume);
  const std::vector<ct::Geometry2D> parts = ct::split_views(geometry, operators);

  const index_t bins = geometry.detector_cols;
  const index_t rows = angles * bins, cols = size * size;
  std::vector<std::int64_t> indptr{0}, indices;
  std::vector<float> data;
  Tensor<float, 2> unit(Extents<2>{1, bins});
  Tensor<float, 2> image(Extents<2>{size, size});
  for (index_t v = 0; v < angles; ++v) {
    const Projector one(exec, ct::select_views(geometry, v, 1));
    std::fill(unit.data(), unit.data() + bins, 0.0f);
    for (index_t c = 0; c < bins; ++c) {
      unit.data()[c] = 1.0f;
      one.apply_adjoint(unit.const_view(), image.view());
      unit.data()[c] = 0.0f;
      const float* x = image.data();
      for (index_t p = 0; p < cols; ++p)
        if (x[p] != 0.0f) {
          indices.push_back(p);
          data.push_back(x[p]);
        }
      indptr.push_back(static_cast<std::int64_t>(indices.size()));
    }
  }
  const double build_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  // Check every block against the example's block projector: y = A_k x and x' = A_k^T y'.
  double forward_error = 0, adjoint_error = 0;
  index_t first_row = 0;
  std::vector<std::int64_t> block_views;
  for (std::size_t k = 0; k < parts.size(); ++k) {
    const Projector block(exec, parts[k]);
    const index_t m = parts[k].views() * bins;
    block_views.push_back(parts[k].views());
    Tensor<float, 2> x(Extents<2>{size, size}), y(parts[k].sinogram_shape()), r(parts[k].sinogram_shape());
    Tensor<float, 2> back(Extents<2>{size, size});
    pnpdist::fill_uniform(exec, x.view(), 7, k, 0.0f, 1.0f);
    pnpdist::fill_normal(exec, r.view(), 8, k, 0.0f, 1.0f);
    block.apply(x.const_view(), y.view());
    block.apply_adjoint(r.const_view(), back.view());
    std::vector<double> matrix_back(static_cast<std::size_t>(cols), 0.0);
    double y_norm = 0, y_diff = 0;
    for (index_t i = 0; i < m; ++i) {
      double s = 0;
      const index_t row = first_row + i;
      for (std::int64_t e = indptr[row]; e < indptr[row + 1]; ++e) {
        s += static_cast<double>(data[e]) * x.data()[indices[e]];
        matrix_back[static_cast<std::size_t>(indices[e])] += static_cast<double>(data[e]) * r.data()[i];
      }
      y_norm = std::max(y_norm, std::abs(static_cast<double>(y.data()[i])));
      y_diff = std::max(y_diff, std::abs(s - y.data()[i]));
    }
    double b_norm = 0, b_diff = 0;
    for (index_t p = 0; p < cols; ++p) {
      b_norm = std::max(b_norm, std::abs(static_cast<double>(back.data()[p])));
      b_diff = std::max(b_diff, std::abs(matrix_back[static_cast<std::size_t>(p)] - back.data()[p]));
    }
    forward_error = std::max(forward_error, y_diff / y_norm);
    adjoint_error = std::max(adjoint_error, b_diff / b_norm);
    first_row += m;
  }

  write_vector(out / "projector_indptr.npy", indptr);
  write_vector(out / "projector_indices.npy", indices);
  write_vector(out / "projector_data.npy", data);
  write_vector(out / "projector_blocks.npy", block_views);
  const nlohmann::ordered_json summary = {{"size", size},
                                          {"angles", angles},
                                          {"operators", operators},
                                          {"bins", bins},
                                          {"rows", rows},
                                          {"cols", cols},
                                          {"nnz", data.size()},
                                          {"block_views", block_views},
                                          {"max_relative_error_forward", forward_error},
                                          {"max_relative_error_adjoint", adjoint_error},
                                          {"build_seconds", build_seconds}};
  std::ofstream json(out / "projector.json");
  json << summary.dump() << '\n';
  json.close();
  if (!json) throw pnpdist::io_error("cannot write " + (out / "projector.json").string());
  std::printf("projector %ld x %ld, %zu non-zeros, %zu blocks; check against the block projectors: forward %.3g, "
              "adjoint %.3g (max relative error); %.1f s\n",
              static_cast<long>(rows), static_cast<long>(cols), data.size(), block_views.size(), forward_error,
              adjoint_error, build_seconds);
  return forward_error < 1e-4 && adjoint_error < 1e-4 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "export_projector_matrix: %s\n", e.what());
    return 1;
  }
}

// simulate_scan: writes a simulated raw cone-beam scan of the walnut-like phantom in the layouts of real
// scans (docs/scanner_data.md): 16-bit detector counts with photon noise, dark and flat frames, the
// 12-column vectors file, and a deliberately shifted centre of rotation; as a directory of TIFF files, one
// NeXus NXtomo file (frames split by image_key, with the orbit's angles, distances and pixel sizes) or one
// Data Exchange file. The geometry is tomography_3d's default orbit (source and detector 2 volume sides from
// the centre, detector pixels of 2 / size, ceil(1.5 size)^2 of them), so that
//
//   simulate_scan --size 64 --projections 180 --shift 7.5 --output scan64
//   tomography_3d --dataset scan64 --size 64 --output-dir out
//
// reconstructs it (--output scan64.nxs: the NeXus file, read the same way).

#include "example_options.hpp"

#include <pnpdist/backend/backend.hpp>
#include <pnpdist/phantoms/phantoms.hpp>
#include <pnpdist/physics/ct/geometry.hpp>
#include <pnpdist/physics/ct/simulated_scan.hpp>

#include <chrono>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <string>

int main(int argc, char** argv) {
  using pnpdist::index_t;
  namespace ct = pnpdist::ct;
  using namespace pnpdist_examples;
  index_t size = 64, projections = 180, detector = 0, phantom_seed = 0, threads = 0;
  std::string output, format = "auto";
  ct::SimulatedScanOptions o;
  o.centre_of_rotation_shift = 7.5;
  double seed = 0, offset_u = 0, offset_v = 0;
  OptionTable table(
      "simulate_scan: a simulated raw cone-beam scan of the walnut-like phantom (TIFF counts, darks,\n"
      "flats, vectors file, shifted centre of rotation) for tomography_3d --dataset");
  table.text("--output", "DIR|FILE", "directory (TIFF) or file (NeXus, Data Exchange) to write (created)", output);
  table.choice("--format",
               "tiff: a directory of TIFF files; nexus: one NXtomo file; exchange: one Data Exchange file;\n"
               "auto: nexus for an --output ending in .nxs, .nx5, .h5 or .hdf5, else tiff",
               format, {"auto", "tiff", "nexus", "exchange"});
  table.integer("--size", "volume edge in voxels (the phantom fills the unit cube)", size, 8);
  table.integer("--projections", "projections over 360 degrees", projections, 1);
  table.integer("--detector", "detector rows = columns (0 = ceil(1.5 size))", detector, 0);
  table.number("--shift", "centre-of-rotation shift in detector columns (the data's, not the vectors')",
               o.centre_of_rotation_shift, -1e6);
  table.number("--offset-u", "detector offset along u in columns, part of the recorded geometry (vectors file; NeXus\n"
               "beam_center_x; refused for exchange)", offset_u, -1e6);
  table.number("--offset-v", "detector offset along v in rows (NeXus beam_center_y)", offset_v, -1e6);
  table.number("--counts", "open-beam counts per pixel (16-bit: at most about 60000)", o.incident_counts, 1.0);
  table.number("--dark", "mean dark counts", o.dark_counts, 0.0);
  table.number("--gain-variation", "per-pixel gain in [1 - v, 1 + v]", o.gain_variation, 0.0);
  table.number("--drift", "relative source intensity change over the scan (flats before and after)", o.drift, -0.9);
  table.integer("--dark-frames", "dark frames", o.dark_frames, 1);
  table.integer("--flat-frames", "flat frames per position", o.flat_frames, 1);
  table.integer("--zingers", "saturated pixels per projection", o.zingers, 0);
  table.number("--seed", "noise seed", seed, 0.0);
  table.integer("--phantom-seed", "seed of the phantom's texture (0 = the benchmark's)", phantom_seed, 0);
  table.integer("--threads", "OpenMP threads (0 = default)", threads, 0);
  try {
    table.parse(argc, argv);
    pnpdist::require(!output.empty(), "--output DIR is required");
    o.seed = static_cast<std::uint64_t>(seed);
#if defined(PNPDIST_HAS_OPENMP)
    const pnpdist::OpenMP exec{static_cast<int>(threads)};
#else
    const pnpdist::Serial exec{};
#endif
    const double voxel = 1.0 / static_cast<double>(size), pixel = 2.0 / static_cast<double>(size);
    const ct::VolumeGeometry3D volume{size, size, size, voxel, voxel, voxel};
    const index_t side = detector > 0 ? detector : (3 * size + 1) / 2;
    const ct::CircularScan orbit{ct::Beam::divergent, ct::uniform_angles(projections, 0.0, 360.0),
                                 ct::Detector3D{side, side, pixel, pixel, offset_u * pixel, offset_v * pixel}, 2.0, 2.0};
    const std::string extension = std::filesystem::path(output).extension().string();
    if (format == "auto")
      format = extension == ".nxs" || extension == ".nx5" || extension == ".h5" || extension == ".hdf5" ? "nexus"
                                                                                                          : "tiff";
    o.format = format == "nexus"      ? ct::ScanFormat::nexus
               : format == "exchange" ? ct::ScanFormat::data_exchange
                                      : ct::ScanFormat::tiff;
    const ct::ScanLayout layout = format == "exchange" ? ct::ScanLayout::data_exchange() : ct::ScanLayout{};
    const auto start = std::chrono::steady_clock::now();
    const auto truth =
        pnpdist::phantom::rasterize<float>(exec, pnpdist::phantom::walnut(static_cast<std::uint64_t>(phantom_seed)),
                                           volume, pnpdist::phantom::fitted_scale(volume));
    ct::write_simulated_scan(exec, output, orbit, volume, truth.const_view(), o, layout);
    std::printf(
        "simulate_scan: %lld projections of %lld x %lld counts, centre of rotation shifted %.3f columns, "
        "in %s (%s, %.1f s)\n",
        static_cast<long long>(projections), static_cast<long long>(side), static_cast<long long>(side),
        o.centre_of_rotation_shift, output.c_str(), format.c_str(),
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "simulate_scan: %s\n", e.what());
    return 1;
  }
}

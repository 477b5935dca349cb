#pragma once
// Raw scan directories or HDF5/NeXus files for tomography_3d (--dataset DIR|FILE) and the volumes it writes: the
// scan is read and preprocessed (pnpdist/physics/ct/scan_directory.hpp: dark/flat correction, -log, optional
// zinger removal, projection subset, detector crop and binning), the centre of rotation is estimated and applied
// as a detector shift (or given, or left alone), and the reconstruction is written as a float32 TIFF stack
// (slices z, ImageJ/Fiji opens it as a stack) and a .npy array. Layout and steps: docs/scanner_data.md.

#include "example_options.hpp"

#include <pnpdist/io/npy.hpp>
#include <pnpdist/io/tiff.hpp>
#include <pnpdist/physics/ct/centre_of_rotation.hpp>
#include <pnpdist/physics/ct/centre_of_rotation_refinement.hpp>
#include <pnpdist/physics/ct/detector_window.hpp>
#include <pnpdist/physics/ct/scan_directory.hpp>

#include <cstdio>
#include <filesystem>
#include <string>

namespace pnpdist_examples {

struct DatasetOptions {
  std::string dir;                                   // --dataset: empty = no data set
  std::string centre = "auto";                       // --centre-of-rotation: auto | none | a shift in detector columns
  double max_shift = 32;                             // --max-centre-shift
  bool refine = false;                               // --refine-centre: refined by the reprojection error
  pnpdist::index_t binning = 1;                      // --dataset-binning
  pnpdist::index_t first = 0, step = 1, count = -1;  // --dataset-first/-step/-count
  double zinger_threshold = 0;                       // --zinger-threshold (counts; 0 = off)
  pnpdist::index_t ring_width = 0;                   // --ring-width (0 = off)
  pnpdist::index_t read_threads = 1;
};

/// Registers the data-set options.
inline void add_dataset_options(OptionTable& table, DatasetOptions& d) {
  table.text("--dataset", "DIR|FILE",
             "raw scan directory (scan_*.tif, di*.tif darks, io*.tif flats, or scan.h5; scan_geom.geom\n"
             "vectors), or an HDF5 file: NeXus (geometry from its metadata, lengths in mm, else the vectors\n"
             "beside it) or Data Exchange (docs/scanner_data.md): read, preprocessed and reconstructed\n"
             "instead of the phantom",
             d.dir);
  table.text("--centre-of-rotation", "auto|none|S",
             "data set: estimate the detector shift from opposite rays (auto), keep the vectors (none), or\n"
             "shift the detector by S columns",
             d.centre);
  table.boolean("--refine-centre",
                "data set: refine the centre of rotation by the FDK reprojection error (9 FDKs and projections)",
                d.refine);
  table.number("--max-centre-shift", "largest centre-of-rotation shift searched, in (binned) columns", d.max_shift,
               0.0);
  table.integer("--dataset-binning", "data set: detector binning b (b x b pixels averaged while reading)", d.binning,
                1);
  table.integer("--dataset-first", "data set: first projection used", d.first, 0);
  table.integer("--dataset-step", "data set: use every step-th projection", d.step, 1);
  table.integer("--dataset-count", "data set: projections used (-1 = all)", d.count, -1);
  table.number("--zinger-threshold", "data set: replace counts this far from their 3x3 median (0 = off)",
               d.zinger_threshold, 0.0);
  table.integer("--ring-width", "data set: ring reduction, half-width in columns (0 = off, at most 15)", d.ring_width,
                0, 15);
  table.integer("--read-threads", "data set: threads reading TIFF files", d.read_threads, 1, 64);
}

struct ScanDataset {
  pnpdist::ct::Geometry3D geometry;  // with the centre-of-rotation shift applied
  pnpdist::Tensor<float, 3> projections;
  double centre_shift = 0;  // applied, in columns
  std::string description;
};

/// Reads, preprocesses and centres the data set for reconstruction on `volume`.
template <class Exec>
ScanDataset load_scan_dataset(const Exec& exec, const DatasetOptions& d, const pnpdist::ct::VolumeGeometry3D& volume,
                              bool quiet) {
  namespace ct = pnpdist::ct;
  ct::ScanReadOptions read;
  read.selection = pnpdist::ProjectionSelection{d.first, d.step, d.count};
  read.window.binning = d.binning;
  read.zinger_threshold = static_cast<float>(d.zinger_threshold);
  read.threads = static_cast<int>(d.read_threads);
  read.ring_width = d.ring_width;
  ct::Scan scan = ct::read_scan(exec, d.dir, volume, read);
  ScanDataset out;
  std::string how;
  if (d.centre == "auto") {
    const auto found = ct::estimate_centre_of_rotation(scan.geometry, scan.projections.const_view(),
                                                       ct::CentreOfRotationOptions{.max_shift = d.max_shift});
    out.centre_shift = found.shift;
    how = "estimated";
  } else if (d.centre != "none") {
    out.centre_shift = parse_number("--centre-of-rotation", d.centre.c_str());
    how = "given";
  } else {
    how = "none";
  }
  if (d.refine) {
    out.centre_shift =
        ct::refine_centre_of_rotation(exec, scan.geometry, scan.projections.const_view(), out.centre_shift).shift;
    how += ", refined";
  }
  out.geometry = ct::shift_detector(scan.geometry, out.centre_shift);
  out.projections = std::move(scan.projections);
  char shift[64];
  std::snprintf(shift, sizeof shift, "%.3f", out.centre_shift);
  out.description = "scan " + d.dir + " (" + std::to_string(out.geometry.views()) + " of " +
                    std::to_string(scan.raw_projections) + " projections, binning " + std::to_string(d.binning) +
                    ", centre of rotation " + how + ": " + shift + " columns), ";
  if (!quiet) std::printf("dataset: %s\n", out.description.c_str());
  return out;
}

/// Writes `volume` as output_dir/name.tif (float32 stack) and output_dir/name.npy.
inline void write_volume(const std::string& output_dir, const std::string& name,
                         const pnpdist::View<const float, 3>& volume) {
  const std::filesystem::path base = std::filesystem::path(output_dir) / name;
  pnpdist::write_tiff(base.string() + ".tif", volume);
  pnpdist::write_npy(base.string() + ".npy", volume);
}

}  // namespace pnpdist_examples

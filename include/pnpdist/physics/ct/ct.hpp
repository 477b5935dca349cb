#pragma once
/// \file
/// The CT module: geometry (ASTRA-style per-view vectors), vector files, Joseph projectors and their exact
/// transposes, split_views, FBP / FDK; raw scans: detector windows and shifts, centre of rotation, scan
/// directories (read and preprocessed) and simulated scans. Conventions: docs/ct.md, docs/scanner_data.md.

#include "pnpdist/physics/ct/centre_of_rotation.hpp"
#include "pnpdist/physics/ct/centre_of_rotation_refinement.hpp"
#include "pnpdist/physics/ct/circular_orbit.hpp"
#include "pnpdist/physics/ct/detector_window.hpp"
#include "pnpdist/physics/ct/fbp.hpp"
#include "pnpdist/physics/ct/filters.hpp"
#include "pnpdist/physics/ct/geometry.hpp"
#include "pnpdist/physics/ct/geometry_description.hpp"
#include "pnpdist/physics/ct/joseph.hpp"
#include "pnpdist/physics/ct/parker.hpp"
#include "pnpdist/physics/ct/projector.hpp"
#include "pnpdist/physics/ct/scan_directory.hpp"
#include "pnpdist/physics/ct/simulated_scan.hpp"
#include "pnpdist/physics/ct/split_views.hpp"
#include "pnpdist/physics/ct/vector_file.hpp"

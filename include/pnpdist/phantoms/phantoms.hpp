#pragma once
/// \file
/// The phantoms module: ellipse / ellipsoid phantoms with exact line integrals (Shepp-Logan 2D and 3D, a
/// walnut-like 3D phantom).

#include "pnpdist/phantoms/ellipses.hpp"
#include "pnpdist/phantoms/shepp_logan.hpp"
#include "pnpdist/phantoms/walnut.hpp"

#pragma once
/// \file
/// Which optional backends this translation unit was compiled with. The component targets of the CMake
/// package (pnpdist::openmp, pnpdist::cuda, ...) define the PNPDIST_HAS_* macros; a feature whose macro is
/// absent throws pnpdist::not_compiled when used, never a link error.

#include <array>
#include <string_view>

namespace pnpdist {

struct Feature {
  std::string_view name;
  bool compiled;
};

/// The optional features and whether each is compiled into this translation unit.
inline constexpr std::array<Feature, 6> compiled_features() {
  return {{
      {"openmp",
#if defined(PNPDIST_HAS_OPENMP)
       true
#else
       false
#endif
      },
      {"cuda",
#if defined(PNPDIST_HAS_CUDA)
       true
#else
       false
#endif
      },
      {"mpi",
#if defined(PNPDIST_HAS_MPI)
       true
#else
       false
#endif
      },
      {"nccl",
#if defined(PNPDIST_HAS_NCCL)
       true
#else
       false
#endif
      },
      {"onednn",
#if defined(PNPDIST_HAS_ONEDNN)
       true
#else
       false
#endif
      },
      {"fftw",
#if defined(PNPDIST_HAS_FFTW)
       true
#else
       false
#endif
      },
  }};
}

}  // namespace pnpdist

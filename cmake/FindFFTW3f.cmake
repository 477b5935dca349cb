# FindFFTW3f: single-precision FFTW3 with its threads library.
# Defines FFTW3f_FOUND and the imported target FFTW3::fftw3f (fftw3f + fftw3f_threads).
find_path(FFTW3f_INCLUDE_DIR fftw3.h)
find_library(FFTW3f_LIBRARY fftw3f)
find_library(FFTW3f_THREADS_LIBRARY fftw3f_threads)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(FFTW3f REQUIRED_VARS FFTW3f_LIBRARY FFTW3f_THREADS_LIBRARY FFTW3f_INCLUDE_DIR)
if(FFTW3f_FOUND AND NOT TARGET FFTW3::fftw3f)
  add_library(FFTW3::fftw3f INTERFACE IMPORTED)
  set_target_properties(FFTW3::fftw3f PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${FFTW3f_INCLUDE_DIR}"
    INTERFACE_LINK_LIBRARIES "${FFTW3f_THREADS_LIBRARY};${FFTW3f_LIBRARY}")
endif()
mark_as_advanced(FFTW3f_INCLUDE_DIR FFTW3f_LIBRARY FFTW3f_THREADS_LIBRARY)

#pragma once
/// \file
/// The process's resident memory as the operating system reports it (Linux /proc/self/status): the
/// current resident set (VmRSS) and its high-water mark (VmHWM), in bytes. Returns 0 where the figure is
/// unavailable (not Linux, /proc not mounted). reset_peak_resident_bytes() restarts the high-water mark
/// at the current resident set (Linux >= 4.0, by writing "5" to /proc/self/clear_refs); it returns false
/// where that is not possible, in which case the peak keeps counting from process start.

#include <cstddef>
#include <fstream>
#include <string>

namespace pnpdist {

namespace detail {

/// The value of a "Key:   123 kB" line of /proc/self/status, in bytes; 0 when absent.
inline std::size_t proc_status_bytes(const std::string& key) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.compare(0, key.size(), key) == 0 && line.size() > key.size() && line[key.size()] == ':') {
      return static_cast<std::size_t>(std::stoull(line.substr(key.size() + 1))) * 1024;
    }
  }
  return 0;
}

}  // namespace detail

/// Current resident set size of the process, in bytes (0 when unknown).
[[nodiscard]] inline std::size_t resident_bytes() { return detail::proc_status_bytes("VmRSS"); }

/// Peak resident set size of the process since start or the last reset, in bytes (0 when unknown).
[[nodiscard]] inline std::size_t peak_resident_bytes() { return detail::proc_status_bytes("VmHWM"); }

/// Restarts the peak at the current resident set; false when the system does not allow it.
inline bool reset_peak_resident_bytes() {
  std::ofstream clear_refs("/proc/self/clear_refs");
  if (!clear_refs) return false;
  clear_refs << "5";
  clear_refs.flush();
  return static_cast<bool>(clear_refs);
}

}  // namespace pnpdist

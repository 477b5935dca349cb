#pragma once
// The check the denoising contexts end with: prints the PSNR of the noisy and the denoised data against the
// clean data and returns the exit status, 0 when denoising gained at least `margin_db`.
#include <pnpdist/pnp.hpp>

#include <cstdio>

template <class Clean, class Noisy, class Denoised>
int denoising_gain_status(const Clean& clean, const Noisy& noisy, const Denoised& denoised, double margin_db = 3.0) {
  const pnpdist::Serial serial;
  const double before = pnpdist::psnr(serial, noisy.const_view(), clean.const_view(), 1.0);
  const double after = pnpdist::psnr(serial, denoised.const_view(), clean.const_view(), 1.0);
  std::printf("PSNR %.2f -> %.2f dB\n", before, after);
  return after >= before + margin_db ? 0 : 1;
}

// Which of the instruction sets wafer's kernels are built for this CPU (and its OS) can run,
// read once from CPUID and XCR0. AMX also needs the kernel's per-process permission.
#pragma once

namespace wafer {

struct CpuFeatures {
  bool avx2 = false;    // AVX2 + FMA + F16C, with the OS saving YMM state
  bool avx512 = false;  // AVX-512 F/BW/VL/DQ/VNNI/BF16 + the above, OS saves ZMM state
  bool amx = false;     // AMX tile/int8/bf16, OS enables tile state (permission not yet asked)
};

// Reads CPUID/XCR0; cheap, no side effects.
CpuFeatures detect_cpu_features();

// Asks Linux for permission to use AMX tile data in this process (arch_prctl
// ARCH_REQ_XCOMP_PERM). Returns false where that is refused or not Linux on x86-64.
// Process-wide and idempotent; call before any thread executes a tile instruction.
bool request_amx_permission();

}  // namespace wafer

# Typed contract of the native engine's bit-accurate Loihi kernel (body in _loihi.pyx).
# The Python wrapper (spikecore.engine.loihi) validates the IR, converts weights the way
# Lava does, allocates every array and keeps the numpy arrays these memoryviews view;
# the kernel only steps. Record codes must match spikecore.engine.loihi.

from libc.stdint cimport int64_t, int32_t, int16_t, uint64_t, uint32_t, uint16_t, uint8_t

cdef enum:
    RECORD_V = 0
    RECORD_U = 1
    PHASE_START = 0
    PHASE_END = 1

cdef extern from "_loihi_update.h" nogil:
    int LO_PF_MAX_LINES
    int64_t lo_step(int64_t n, int64_t first, int32_t fu, int32_t fv, int32_t vth, uint32_t* ain, uint32_t* ain2,
                    int32_t* u, int32_t* v, const int32_t* bias, int32_t* spk, int64_t n_spk)
    int lo_set_simd(int enable)
    void lo_prefetch(const void* p, int64_t nbytes)
    void lo_push(int64_t s0, int64_t s1, const uint32_t* idx, const int16_t* w, uint32_t* ring,
                 uint64_t base, uint32_t count)
    void lo_push_spikes(int64_t n, const int32_t* spk, const uint64_t* row, const uint32_t* idx, const int16_t* w,
                        uint32_t* ring, uint64_t base, int lines_idx, int lines_w)
    int64_t lo_accumulate(int64_t s0, int64_t s1, const uint32_t* cell, const int32_t* w, const uint32_t* idx,
                          const uint8_t* shift, int64_t* scratch, uint8_t* used, uint32_t* t_cell,
                          uint32_t* t_idx, uint8_t* t_shift, int64_t n_t, int64_t count)
    void lo_flush(int64_t n_t, const uint32_t* t_cell, const uint32_t* t_idx, const uint8_t* t_shift,
                  int64_t* scratch, uint8_t* used, uint32_t* ring, uint64_t base)

cdef class LoihiKernel:
    # sizes
    cdef readonly int64_t n_neurons, n_pops, ring_len, pois_base, n_pois, n_rec, n_pre
    cdef public int64_t ev_ptr
    # cache lines of a neuron's synapse row (target, weight arrays) prefetched ahead of it
    # (spikecore.engine.loihi.prefetch_lines)
    cdef public int pf_lines_idx, pf_lines_w
    # per population: first neuron, size; 4096 - (du + 1), 4096 - dv, vth << 6
    cdef int64_t[::1] pop_start, pop_size
    cdef int32_t[::1] pop_fu, pop_fv, pop_vth
    # per neuron: state and the bias as Lava's scale_bias leaves it
    cdef int32_t[::1] u, v, bias
    # input due at each of the next ring_len steps, per neuron (int32 arithmetic, modulo 2**32):
    # 2 ring_len - 1 rows, rows ring_len.. overflow rows of rows 0.. (_loihi_update.h, lo_push)
    cdef uint32_t[:, ::1] ring
    # presynaptic rows: [0, n_pre) binary spikes, [n_pre, 2 n_pre) sources' graded projections
    # (spike counts multiply the weights)
    # synapses whose projection has weight_exp >= 0: CSR by presynaptic row, ring offset
    # (1 + delay) * n_neurons + target, weight already shifted (a left shift distributes
    # over the sum modulo 2**32; it fits int16); per row: first synapse,
    # length (lo_push_spikes)
    cdef uint64_t[:, ::1] f_row
    cdef uint32_t[::1] f_idx
    cdef int16_t[::1] f_w
    # synapses whose projection has weight_exp < 0: the floor shift applies to the sum of a
    # step, per (projection, target, delay), so they accumulate into a scratch cell first;
    # the cells touched in a step are listed (t_*) with their ring offset and shift
    cdef int64_t[::1] s_ptr
    cdef bint has_slow
    cdef uint32_t[::1] s_cell, s_idx
    cdef int32_t[::1] s_w
    cdef uint8_t[::1] s_shift
    cdef int64_t[::1] scratch
    cdef uint8_t[::1] cell_used
    cdef uint32_t[::1] t_cell, t_idx
    cdef uint8_t[::1] t_shift
    # spike-source events, sorted by step
    cdef int64_t[::1] ev_step
    cdef int32_t[::1] ev_pre
    # state recording: kind, phase (start of the step or after its update), neuron, period in steps
    cdef int32_t[::1] rec_kind, rec_phase
    cdef int64_t[::1] rec_idx, rec_every

    cdef int64_t _run(self, int64_t n0, int64_t n1, const uint16_t[:, ::1] pois_counts,
                      int64_t[::1] out_step, int32_t[::1] out_idx, int64_t out_n,
                      double[::1] rec_out, int64_t[::1] rec_pos, int32_t[::1] spk, uint32_t[::1] spk_cnt,
                      int64_t* out_n_ptr) noexcept nogil
    cdef void _record(self, int64_t n, int32_t phase, double[::1] rec_out, int64_t[::1] rec_pos) noexcept nogil
    cdef int64_t _update(self, int64_t slot, int32_t* spk) noexcept nogil
    cdef int64_t _propagate(self, int64_t slot, const int32_t* spk, const uint32_t* cnt, int64_t n_spk,
                            int64_t n_touched) noexcept nogil

# Typed contract of the native engine's kernel (body in _core.pyx).
# The Python wrapper (spikecore.engine.simulator) validates and allocates every
# array and keeps the numpy arrays these memoryviews view; the kernel only steps.
# Model and record codes must match spikecore.engine.simulator.

from libc.stdint cimport int64_t, int32_t, uint16_t

cdef enum:
    MODEL_DELTA = 0
    MODEL_CUBA = 1
    MODEL_COBA = 2
    RECORD_V = 0
    RECORD_SYN = 1

cdef extern from "_update.h" nogil:
    void sc_apply_pending(int64_t n, double* x, double* p)
    void sc_update_cuba2(int64_t size, double am, double c0, double c1, double a0, double a1,
                         double* v, const double* drive, double* s0, double* s1,
                         double* p0, double* p1, int32_t* refr)
    void sc_update_cuba1(int64_t size, double am, double c0, double a0,
                         double* v, const double* drive, double* s0, double* p0, int32_t* refr)
    void sc_update_cuba_n(int64_t size, int64_t nrec, double am, const double* coef, const double* decay,
                          double* v, const double* drive, double* syn, double* pend, int32_t* refr)
    void sc_update_delta(int64_t size, double am, double* v, const double* drive, double* pend, int32_t* refr)
    void sc_update_coba(int64_t size, int64_t nrec, double dt, double c_m, double g_l, double v_leak,
                        const double* erev, const double* decay,
                        double* v, const double* drive, double* syn, double* pend, int32_t* refr)
    int64_t sc_threshold(int64_t size, int64_t first, double vth, int32_t ref_steps,
                         const double* v, int32_t* refr, double* due, int32_t* spk, int64_t n_spk)

cdef class Kernel:
    # sizes
    cdef readonly int64_t n_neurons, n_channels, ring_len, n_pops, n_rec, pois_base, n_pois
    cdef readonly double dt
    cdef public int64_t ev_ptr
    # per population
    cdef int32_t[::1] pop_model
    cdef int64_t[::1] pop_start, pop_size, pop_ref_steps, pop_rec_start, pop_n_rec, pop_chan_start
    cdef double[::1] pop_vth, pop_vreset, pop_decay_mem, pop_cm, pop_gl, pop_vleak
    # per receptor
    cdef double[::1] rec_decay, rec_coef, rec_erev
    # per neuron / per channel state
    cdef double[::1] v, syn, drive, ring
    cdef int32_t[::1] refr
    cdef int32_t[::1] neuron_pop
    # synapses, CSR by presynaptic index (neurons, then spike sources, then Poisson sources)
    cdef int64_t[::1] row_ptr
    cdef int32_t[::1] syn_chan, syn_delay
    cdef double[::1] syn_weight
    # spike-source events, sorted by step
    cdef int64_t[::1] ev_step
    cdef int32_t[::1] ev_pre
    # state recording: kind, index into v or syn, sampling period in steps
    cdef int32_t[::1] rec_kind
    cdef int64_t[::1] rec_idx, rec_every

    cdef int64_t _run(self, int64_t n0, int64_t n1, const uint16_t[:, ::1] pois_counts,
                      int64_t[::1] out_step, int32_t[::1] out_idx, int64_t out_n,
                      double[::1] rec_out, int64_t[::1] rec_pos, int32_t[::1] spk,
                      int64_t* out_n_ptr) noexcept nogil
    cdef void _push(self, int64_t pre, int64_t n, double mult) noexcept nogil
    cdef int64_t _update_population(self, int64_t p, int64_t n, int64_t n_spk, int32_t* spk) noexcept nogil
    cdef void _apply_slot(self, int64_t n) noexcept nogil

# Typed contract of the native engine's precise-timing kernel (body in _precise.pyx).
# The Python wrapper (spikecore.engine.precise) validates the IR and allocates every
# numpy array these memoryviews view; the kernel owns only its event queue, its spike
# output buffer and its random-number state (C memory, freed in __dealloc__).
# Model and record codes must match spikecore.engine.precise.

from libc.stdint cimport int64_t, int32_t, uint64_t, uint16_t

cdef extern from "_precise_fast.h" nogil:
    void pc_fast_delta(int64_t size, int64_t n, double am, double vth, double* v, const double* drive,
                       const int64_t* ref_end, double* acc_v, double* acc_p, int64_t* flag)
    void pc_fast_cuba2(int64_t size, int64_t n, double am, double inv_tm, double vth, double h2_8,
                       double a0, double a1, double c0, double c1, double it0, double it1,
                       double* v, const double* drive, const int64_t* ref_end, double* syn0, double* syn1,
                       double* acc_v, double* acc_p, double* acc_s0, double* acc_s1, int64_t* flag)
    void pc_fast_cuba(int64_t size, int64_t n, int64_t nr, double am, double inv_tm, double vth,
                      double h2_8, const double* ak, const double* coef_h, const double* inv_tk,
                      double* v, const double* drive, const int64_t* ref_end, double* syn,
                      double* acc_v, double* acc_p, double* acc_s, double* t_vf, double* t_jmax,
                      double* t_jmin, double* t_sabs, int64_t* flag)

cdef enum:
    PMODEL_DELTA = 0
    PMODEL_CUBA = 1
    PRECORD_V = 0
    PRECORD_SYN = 1
    MAX_RECEPTORS = 8        # receptors per population the slow path holds on its stack
    SEARCH_STACK = 96        # depth of the crossing search's interval stack
    PUSH_BATCH = 64          # spikes of one presynaptic neuron queued together
    EXP_TABLE_SCALE = 256    # table steps per unit of the argument of _exp_neg
    EXP_TABLE_MAX = 65536    # beyond this many entries (dt/tau > 256), _exp_neg uses libm

# One queued synaptic event: synapse `syn` (its weight) arrives on channel `chan` at
# offset `off` (s, in [0, dt]) of its step. 16 bytes: queuing is memory-bound.
ctypedef struct Event:
    double off
    int32_t chan
    int32_t syn

# The events due in one step, in arrival order (unsorted).
ctypedef struct Slot:
    Event* ev
    int64_t n
    int64_t cap

# The state of a cuba neuron at one time, as the crossing search needs it: v, and over
# the receptors the sums of positive and negative syn and of |syn|/tau_syn.
ctypedef struct Probe:
    double v
    double pos
    double neg
    double sabs

cdef class PreciseKernel:
    cdef readonly int64_t n_neurons, n_channels, ring_len, n_pops, n_taus, pois_base, n_pois
    cdef readonly double dt
    cdef public int64_t ev_ptr, drv_ptr
    cdef readonly bint has_rem
    cdef readonly int64_t slow_neuron_steps   # neuron-steps replayed exactly (diagnostics)
    # per population
    cdef int32_t[::1] pop_model, pop_tau_idx
    cdef int64_t[::1] pop_start, pop_size, pop_n_rec, pop_rec_start, pop_chan_start, pop_ref_steps
    cdef double[::1] pop_vth, pop_vreset, pop_tm, pop_am, pop_ref_rem
    # per receptor (global index); the membrane time constant is the population's
    cdef double[::1] rec_tk, rec_ak, rec_coef_h, rec_kmax, rec_ck, rec_delta, rec_inv_tk, pop_inv_tm
    cdef int32_t[::1] rec_near
    # per channel (one synaptic variable of one neuron)
    cdef int32_t[::1] chan_neuron, chan_rec, chan_um, chan_uk
    # distinct time constants: tau, exp(-dt/tau)
    cdef double[::1] tau_u, tau_hdecay
    # per neuron / per channel state
    cdef double[::1] v, syn, drive
    cdef int64_t[::1] ref_end_step
    cdef double[::1] ref_end_off
    cdef int32_t[::1] neuron_pop
    # synapses, CSR by presynaptic index; off-grid delay remainders (empty when none)
    cdef int64_t[::1] row_ptr
    cdef int32_t[::1] syn_chan, syn_dsteps
    cdef double[::1] syn_weight, syn_rem, syn_gm, syn_gk
    # spike-source events (step, offset, presynaptic index), sorted by step
    cdef int64_t[::1] ev_step
    cdef double[::1] ev_off
    cdef int32_t[::1] ev_pre
    # injected-current changes (step, offset, neuron, change of drive), sorted by (step, neuron, offset)
    cdef int64_t[::1] drv_step
    cdef double[::1] drv_off, drv_delta
    cdef int32_t[::1] drv_neuron
    # Poisson sources: active window (s)
    cdef double[::1] pois_start, pois_stop
    # state recording
    cdef int32_t[::1] rec_kind
    cdef int64_t[::1] rec_idx, rec_every
    # C-owned memory
    cdef double* acc                 # ring, per slot: w*F_v by neuron, positive w by neuron, [w*F_syn by channel]
    cdef int64_t acc_slot            # doubles per slot: 2N (+ C with cuba)
    cdef double* t_vf                # fast-path scratch, one value per neuron
    cdef double* t_jmax
    cdef double* t_jmin
    cdef double* t_sabs
    cdef int64_t* flag               # 1: neuron takes the slow path this step
    cdef Slot* slots
    cdef Event* buf                  # slow-path events, grouped by neuron
    cdef int64_t buf_cap
    cdef int64_t* out_step
    cdef double* out_off
    cdef int32_t* out_idx
    cdef int64_t out_n, out_cap
    cdef double* etab               # per spike of a batch and tau: exp(-(dt - offset)/tau_u); then their sums
    cdef double* inv_tau             # 1/tau_u
    cdef double* pofs                # offsets of one Poisson neuron's spikes in one step
    cdef double* exptab              # exp(-k/EXP_TABLE_SCALE), k = 0 .. exptab_n - 1 (NULL: use libm)
    cdef int64_t exptab_n
    cdef int32_t* slow               # neurons on the slow path this step
    cdef int64_t* slow_cnt           # their event counts, then offsets into buf
    cdef int32_t* slow_pos           # neuron -> index in slow, or -1
    cdef int32_t* hit_k              # events of slow neurons this step: their slow index ...
    cdef Event* hit_ev               # ... and the event
    cdef int64_t hit_cap
    cdef int64_t* drv_first          # neuron -> first drive event this step, or -1
    cdef uint64_t rng[4]
    cdef int failed

    cdef int _step(self, int64_t n, int64_t row, const uint16_t[:, ::1] pois_counts,
                   double[::1] rec_out, int64_t[::1] rec_pos) noexcept nogil
    cdef int _push(self, int64_t pre, int64_t n, double* offs, int64_t cnt) noexcept nogil
    cdef void _acc_add(self, double* ap, int64_t i, int64_t c, int32_t rec, double w, double fm, double fk,
                       double tau_left) noexcept nogil
    cdef int _emit(self, int64_t n, double off, int32_t i) noexcept nogil
    cdef int _slow_neuron(self, int64_t n, int32_t i, Event* ev, int64_t n_ev) noexcept nogil
    cdef double _cuba_crossing(self, int64_t p, double v0, double* s0, double d, double tau) noexcept nogil
    cdef void _cuba_probe(self, int64_t p, double v0, double* s0, double d, double t, Probe* out) noexcept nogil
    cdef double _cuba_root(self, int64_t p, double v0, double* s0, double d, double a, double b,
                           double fa, double fb) noexcept nogil
    cdef double _uniform(self) noexcept nogil
    cdef double _exp_neg(self, double x) noexcept nogil

# Typed contract of the native engine's precise-timing kernel (body in _precise.pyx; its slow
# path and shared types in _precise_replay.h, its fast path in _precise_fast.h).
# The Python wrapper (spikecore.engine.precise) validates the IR and allocates every
# numpy array these memoryviews view; the kernel owns only its queues, its scratch
# buffers and its spike output buffer (C memory, freed in __dealloc__).
# Model and record codes must match spikecore.engine.precise.

cimport cython
from libc.stdint cimport int64_t, int32_t, uint64_t, uint16_t, uint8_t

cdef extern from "_precise_fast.h" nogil:
    int64_t pc_fast_delta(int64_t size, double am, double gp, double vth, double* v, const double* drive, int uniform,
                          double* acc,
                          int32_t* cand, int64_t first,
                          int64_t* fl)
    int64_t pc_fast_cuba2(int64_t size, int dale, double am, double vth, double a0, double a1, double c0, double c1,
                          double k0, double kb, double* v, const double* drive, int uniform, double* syn0,
                          double* syn1, double* acc_v, double* acc_p, double* acc_s0, double* acc_s1,
                          int32_t* cand, int64_t first, int64_t* fl)
    int64_t pc_fast_cuba(int64_t size, int64_t nr, double am, double vth, const double* ak, const double* coef_h,
                         const double* kmax, double* v, const double* drive, double* syn, double* acc_v,
                         double* acc_p, double* acc_s, int32_t* cand, int64_t first,
                          int64_t* fl)
    void pc_prefetch_row(const int32_t* chan, int64_t s0, int64_t s1)
    void pc_event_ranks(int64_t n, double* off, int64_t* rank)
    void pc_prefetch(const void* p)
    int64_t pc_scan_marked(int64_t s0, int64_t s1, const int32_t* chan, const uint8_t* mark, int64_t* out)
    int64_t pc_scan_marked16(int64_t s0, int64_t s1, const uint16_t* chan, const uint8_t* mark, int64_t* out)
    void pc_prefetch_row16(const uint16_t* chan, int64_t s0, int64_t s1)
    double pc_exp_tab(double x, const double* tab)
    double PC_EXP_POLY5_MAX
    double PC_EXP_POLY8_MAX
    void pc_exp_factors(int64_t m, double xs, const double* uu, const double* tab, int poly, double* out)
    double pc_poisson_xscale(double dt, double inv_tau)
    double pc_poisson_u(uint64_t sk, int64_t k, int64_t j)
    uint64_t pc_step_key(uint64_t key, int64_t n)
    double pc_poisson_offset(uint64_t sk, int64_t k, int64_t j, double dt)
    int64_t pc_poisson_fill(int64_t ns, const uint16_t* cnt, int32_t* src, int32_t* idx)
    int64_t pc_poisson_simple(int64_t ns, const uint16_t* cnt, const int64_t* target, const double* weight,
                              const int32_t* dsteps, const int32_t* um, const double* fac, int64_t fstride,
                              double* acc, int64_t acc_slot, int64_t slot0, int64_t L,
                              int32_t* other, int64_t* other_q)
    void pc_poisson_counts(int64_t n_nodes, const int64_t* first, const int64_t* size, const uint64_t* seed,
                           const int64_t* toff, const int32_t* tlen, const int64_t* pt_off, const int32_t* pt_len,
                           const double* cdf, int64_t n, uint16_t* out)
    int64_t pc_poisson_direct(int64_t ns, const uint16_t* cnt, uint64_t sk, double dt, const double* tab,
                              int poly, const double* xscale, const int64_t* aoff, const double* weight, double* acc,
                              int64_t acc_slot, int64_t slot0, int64_t L, int32_t* other)
    void pc_poisson_offsets(int64_t m, uint64_t sk, const int32_t* src, const int32_t* idx, double dt, double* uu,
                            double* off)

# The slow path (exact replay of one neuron over one step) and the types it shares with
# the kernel: the growable buffer, events, spikes, the replay's view of the arrays.
cdef extern from "_precise_replay.h" nogil:
    enum:
        PC_MODEL_DELTA
        PC_MODEL_CUBA
        PC_MAX_RECEPTORS     # receptors per population the replay holds on its stack
        PC_EXP_SCALE         # table steps per unit of the argument of exp(-x)
    int64_t PC_NO_REFRACTORY
    ctypedef struct pc_buf:
        void* data
        int64_t n
        int64_t cap
    int pc_reserve(pc_buf* b, int64_t need, size_t item)
    void pc_release(pc_buf* b)
    ctypedef struct pc_event:
        double off
        double w
        int32_t chan
        int32_t syn
    ctypedef struct pc_spike:
        int64_t step
        double off
        int32_t idx
    ctypedef struct pc_entry:         # a spike queued for one synapse group
        double off
        int32_t grp
    ctypedef struct pc_slot:          # what is due in one step
        pc_buf en
        pc_buf ev
    ctypedef struct pc_pin:           # a Poisson synapse as the replay reads it
        double w
        double rem
        int32_t syn
        int32_t src
        int32_t chan
        int32_t dsteps
    ctypedef struct pc_hit:           # an event of a replayed neuron
        pc_event ev
        int32_t k
    ctypedef struct pc_replay:
        double dt
        const int32_t* pop_model
        const int64_t* pop_start
        const int64_t* pop_size
        const int64_t* pop_n_rec
        const int64_t* pop_rec_start
        const int64_t* pop_chan_start
        const int64_t* pop_ref_steps
        const double* pop_vth
        const double* pop_vreset
        const double* pop_tm
        const double* pop_ref_rem
        const double* rec_tk
        const double* rec_ck
        const double* rec_delta
        const double* rec_kmax
        const int32_t* rec_near
        const int32_t* chan_rec
        double* v
        double* syn
        double* drive
        double* ref_end_off
        int64_t* ref_end_step
        const int32_t* neuron_pop
        const int64_t* drv_step
        const double* drv_off
        const double* drv_delta
        const int32_t* drv_neuron
        int64_t n_drv
        const int64_t* drv_first
        const double* exptab
        int64_t exptab_n
        const int64_t* pre_grp
        const int64_t* grp_start
        const int32_t* grp_offgrid
        const int32_t* grp_rec
        const int32_t* syn_chan
        const double* grp_w
        const double* syn_weight
        const uint16_t* syn_chan16
        int chan16
        const pc_slot* slots
        int64_t ring_len
        const pc_pin* pin
        const int64_t* pin_ptr
        int64_t n_pois
        const uint16_t* pring
        uint64_t pois_key
        int pois_windowed
        const double* pois_start
        const double* pois_stop
        const int32_t* slow
        int64_t* slow_cnt
        int32_t* slowc
        uint8_t* slowmark
        int64_t* rec_nslow
        int64_t* scan_out
        pc_buf* hits
        pc_buf* events
        int32_t* rlist
        char* rin
        int64_t* rl_n
    double pc_expn(const double* tab, int64_t tab_n, double x)
    int pc_collect_and_replay(const pc_replay* R, pc_buf* spikes, int64_t n, int64_t n_slow)

cdef enum:
    PRECORD_V = 0
    PRECORD_SYN = 1
    PUSH_BATCH = 64          # spikes of one presynaptic neuron whose factors are summed together
    PAGE_BYTES = 4096        # = precise.PAGE_BYTES: acc and the block flags are placed within a page
    EXP_TABLE_MAX = 65536    # beyond this many entries (dt/tau > 256) queuing uses libm's exp

# final: the kernel's cdef methods are called directly (not through the vtable), so the C
# compiler can inline the small ones (_chan_of, _coef_at, ...) into the loops that call them
@cython.final
cdef class PreciseKernel:
    cdef readonly int64_t n_neurons, n_channels, ring_len, n_pops, n_taus, pois_base, n_pois, n_recs
    cdef readonly double dt
    cdef public int64_t ev_ptr, drv_ptr
    cdef readonly bint has_rem
    cdef readonly int64_t slow_neuron_steps   # neuron-steps replayed exactly (diagnostics)
    # per population
    cdef int32_t[::1] pop_model
    cdef int64_t[::1] pop_start, pop_size, pop_n_rec, pop_rec_start, pop_chan_start, pop_ref_steps
    cdef double[::1] pop_vth, pop_vreset, pop_tm, pop_am, pop_ref_rem
    # cuba populations with one never-negative and one never-positive receptor (Dale's law):
    # the positive receptor (0 or 1; -1: not such a population) and its bound factor
    # Kmax e^{dt/tau} (rounded up), which replaces acc_p (that region stays 0 for them)
    cdef int32_t[::1] pop_dale
    cdef int32_t[::1] pop_drive_uniform      # 1: one drive value for the population, all run long
    cdef double[::1] pop_pos_gain      # bound of the step's positive input per unit of its sum (lif_delta, Dale cuba)
    # per receptor (global index); the membrane time constant is the population's
    cdef double[::1] rec_tk, rec_ak, rec_coef_h, rec_kmax, rec_ck, rec_delta
    cdef int32_t[::1] rec_near, rec_um, rec_uk, rec_model
    # where a channel's sums are in an acc slot (per population region, see _precise_fast.h):
    # w*F_v at channel*rec_vstride + rec_voff, positive w at that + rec_pstep, w*F_syn (cuba)
    # at channel + rec_soff
    cdef int64_t[::1] rec_vstride, rec_voff, rec_pstep, rec_soff
    cdef int64_t[::1] pop_acc                # start of each population's region in a slot
    cdef int32_t[::1] rec_dale               # 1: receptor of a pop_dale population (no acc_p)
    # per channel (one synaptic variable of one neuron)
    cdef int32_t[::1] chan_rec
    # distinct time constants: tau, exp(-dt/tau)
    cdef double[::1] tau_u, tau_hdecay
    # per neuron / per channel state
    cdef double[::1] v, syn, drive
    cdef int64_t[::1] ref_end_step
    cdef double[::1] ref_end_off
    cdef int32_t[::1] neuron_pop
    # synapses, CSR by presynaptic index, each row cut into groups of equal target receptor
    # and whole-step delay (off-grid delays in groups of their own); remainders (empty when none)
    cdef int64_t[::1] pre_grp, grp_start
    cdef int32_t[::1] grp_dsteps, grp_offgrid, grp_rec
    cdef double[::1] grp_w                   # the weight of all the group's synapses, or NaN if they differ
    cdef int32_t[::1] syn_chan, syn_dsteps
    cdef uint16_t[::1] syn_chan16                    # syn_chan as uint16 (empty: more than 2^16 channels)
    cdef readonly bint chan16                        # syn_chan16 is there: the streaming loops read it
    cdef double[::1] syn_weight, syn_rem, syn_gm, syn_gk
    # Poisson synapses by target neuron (for the exact replay to redraw their spikes)
    # (each entry self-contained: reading the synapse arrays at random would miss the cache)
    cdef int64_t[::1] pin_ptr
    cdef pc_pin* pin                                    # C copy of pin_syn, pin_src, pin_chan, pin_w, pin_rem, pin_dsteps
    # spike-source events (step, offset, presynaptic index), sorted by step
    cdef int64_t[::1] ev_step
    cdef double[::1] ev_off
    cdef int32_t[::1] ev_pre
    # injected-current changes (step, offset, neuron, change of drive), sorted by (step, neuron, offset)
    cdef int64_t[::1] drv_step
    cdef double[::1] drv_off, drv_delta
    cdef int32_t[::1] drv_neuron
    # Poisson sources: active window (s); whether any window is finite
    cdef double[::1] pois_start, pois_stop
    cdef readonly bint pois_windowed
    # their counts (spikecore.ir.poisson_counts, drawn in C each step): per node the first
    # Poisson neuron, size, seed, shared table (offset into cdf, or -1) and its length;
    # per Poisson neuron its table (offset, length); the tables
    cdef int64_t n_pnodes
    cdef int64_t[::1] pn_first, pn_size, pn_toff, pt_off
    cdef uint64_t[::1] pn_seed
    cdef int32_t[::1] pn_tlen, pt_len
    cdef double[::1] pcdf
    # Poisson sources with one synapse, on the grid, onto a lif_delta neuron (one-to-one drive):
    # acc index of the target (-1: use _scatter), weight, whole-step delay, tau index
    cdef int64_t[::1] ps_target
    cdef double* ps_xs                       # pc_poisson_xscale of the target's tau_mem (unused where ps_target < 0)
    cdef int64_t* ps_aoff                    # ps_dsteps*acc_slot + ps_target (+1 if w < 0), or -1 (pc_poisson_direct)
    cdef double[::1] ps_weight
    cdef int32_t[::1] ps_dsteps, ps_um
    # state recording
    cdef int32_t[::1] rec_kind
    cdef int64_t[::1] rec_idx, rec_every
    # C-owned memory
    cdef double* acc                 # ring of fast-path sums, one slot per step (layout: _precise_fast.h)
    cdef void* acc_base              # its allocation (acc lies acc_offset bytes in)
    cdef int64_t* flags              # the fast path's flags of one block (PC_BLOCK), placed like acc
    cdef void* flags_base
    cdef int64_t acc_slot            # doubles per slot
    cdef pc_slot* slots
    cdef int32_t* cand               # fast-path candidates of one population and step
    cdef pc_buf events               # pc_event: the events of the neurons replayed in a step, grouped by neuron
    cdef pc_buf spikes                  # pc_spike: emitted since the last take_spikes()
    cdef double* etab                # per spike of a batch and tau: exp(-(dt - offset)/tau_u)
    cdef double* inv_tau             # 1/tau_u
    cdef double* exptab              # exp(-k/EXP_TABLE_SCALE), k = 0 .. exptab_n - 1 (NULL: use libm)
    cdef int64_t exptab_n
    cdef readonly int pois_poly      # Poisson factors by pc_exp_poly5 / pc_exp_poly8 (5, 8) or the table (0)
    cdef uint64_t pois_key           # key of the Poisson offset stream
    cdef uint16_t* pring             # Poisson counts of the last ring_len steps, by step slot
    cdef pc_buf p_off                   # double: Poisson spikes of one step: offsets ...
    cdef pc_buf p_uu                    # double: ... their random bits (pc_poisson_u) ...
    cdef pc_buf p_src                   # int32: ... their source ...
    cdef pc_buf p_idx                   # int32: ... their index among the source's spikes of the step ...
    cdef pc_buf p_fac                   # double: ... and their factors, n_taus blocks of p_stride
    cdef int64_t p_stride            # room in each (4 entries of it slack), set by _p_reserve
    cdef int32_t* p_other            # Poisson sources of a step that need _scatter ...
    cdef int64_t* p_other_q          # ... and their first spike
    cdef int32_t* slow               # neurons replayed this step
    cdef int64_t* slow_cnt           # their event counts, then offsets into buf
    cdef int32_t* slowc              # channel -> index in slow of its neuron, or -1
    cdef uint8_t* slowmark           # channel -> 1 if its neuron is replayed this step
    cdef int64_t* scan_out           # scratch of pc_scan_marked, one entry per synapse of the largest group
    cdef int64_t* rec_nslow          # receptor -> neurons of it replayed this step
    cdef pc_buf hits                    # pc_hit: the events of replayed neurons this step
    cdef int64_t* drv_first          # neuron -> first drive event this step, or -1
    cdef int32_t* rlist              # neurons that were refractory at the end of their last step ...
    cdef char* rin                   # ... (neuron -> 1 if in rlist)
    cdef int64_t rl_n
    cdef pc_replay replay            # the slow path's view of the arrays above (_precise_replay.h)

    cdef void _set_replay(self)
    cdef int _step(self, int64_t n, double[::1] rec_out, int64_t[::1] rec_pos) noexcept nogil
    cdef void _refractory(self, int64_t n) noexcept nogil
    cdef void _restore_clamped(self, int64_t n) noexcept nogil
    cdef void _sort_step_spikes(self, int64_t first) noexcept nogil
    cdef int _fast(self, int64_t n, int64_t* n_slow) noexcept nogil
    cdef void _force_slow(self, double* acc, int64_t i) noexcept nogil
    cdef inline int32_t _chan_of(self, int64_t s) noexcept nogil
    cdef int _push(self, int64_t pre, int64_t n, const double* offs, int64_t cnt, bint store) noexcept nogil
    cdef int _scatter(self, int64_t pre, int64_t n, const double* offs, const double* fac, int64_t stride,
                      int64_t cnt, bint store) noexcept nogil
    cdef void _add_grid(self, int64_t g, double* ap, const double* offs, const double* fac, int64_t stride,
                        int64_t cnt) noexcept nogil
    cdef void _deliver(self, int64_t n) noexcept nogil
    cdef double _coef_at(self, int32_t rec, double fm, double fk, double t) noexcept nogil
    cdef void _draw_counts(self, int64_t n, uint16_t* out) noexcept nogil
    cdef int _poisson(self, int64_t n) noexcept nogil
    cdef int _p_reserve(self, int64_t m) noexcept nogil
    cdef int _poisson_direct(self, int64_t n, uint64_t sk, const uint16_t* ring) noexcept nogil

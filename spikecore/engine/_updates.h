/* The grid engine's neuron models: one update function per model, and their registry.
 *
 * Included by _kernel_impl.h once per state type (REAL = double, FN(x) = x_f64; REAL =
 * float, x_f32). A model's update (updates/<model>.h) has the fixed signature
 * sc_update_fn (_kernel.h): it advances one block (a population's neurons owned by one
 * thread) over one step, described by an sc_block, and returns 1 when it flagged the
 * threshold blocks where v crossed, 0 when the threshold is to scan v itself. The step
 * loop (update_all) calls it through the per-population pointer sc_net.pop_update, which
 * _core.pyx fills from this registry by the model's name (sc_update_function); a
 * function compiled elsewhere (numba) fits the same pointer. docs/architecture.md.
 *
 * Adding a model: its header in updates/, one #include and one line in the table below
 * (folds: 1 where the update adds bucket mode's pending input itself, sc_block.fold).
 */
#include "updates/lif_delta.h"
#include "updates/lif_cuba.h"
#include "updates/lif_coba.h"
#include "updates/if_cuba.h"
#include "updates/izhikevich.h"
#include "updates/adex.h"
#include "updates/alif.h"

static const sc_update_entry FN(sc_updates)[] = {
    {"lif_delta", FN(update_lif_delta)},
    {"lif_cuba", FN(update_lif_cuba), 1},
    {"lif_coba", FN(update_lif_coba)},
    {"if_cuba", FN(update_if_cuba)},
    {"izhikevich", FN(update_izhikevich)},
    {"adex", FN(update_adex)},
    {"adex_cond", FN(update_adex_cond)},
    {"alif", FN(update_alif)},
    {"alif_current", FN(update_alif_current)},
    {NULL, NULL, 0},
};

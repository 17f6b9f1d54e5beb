/* PLACEHOLDER: each function moves to its own file with its work
 * (hook/device.c, hook/memlock.c, hook/domain.c, hook/ns.c); delete it here then. */
#include "actions.h"
#include "ns.h"
int l1vh_device_apply(const struct l1vh_target *t, const struct l1vh_device_plan *plan,
                      struct l1vh_error *err)
{ (void) t; (void) plan; return l1vh_error_setx(err, "device injection not built yet"); }
void l1vh_device_undo(const struct l1vh_target *t, const struct l1vh_device_plan *plan)
{ (void) t; (void) plan; }
int l1vh_memlock_apply(const struct l1vh_target *t, const struct l1vh_memlock_plan *plan,
                       struct l1vh_error *err)
{ (void) t; (void) plan; return l1vh_error_setx(err, "memlock not built yet"); }
int l1vh_domain_apply(const struct l1vh_target *t, const struct l1vh_domain_plan *plan,
                      struct l1vh_error *err)
{ (void) t; (void) plan; return l1vh_error_setx(err, "domain rewrite not built yet"); }

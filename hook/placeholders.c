/* PLACEHOLDER: the domain rewrite lands in hook/domain.c with its work. */
#include "actions.h"
int l1vh_domain_apply(const struct l1vh_target *t, const struct l1vh_domain_plan *plan,
                      struct l1vh_error *err)
{ (void) t; (void) plan; return l1vh_error_setx(err, "domain rewrite not built yet"); }

/* The domain XML type rewrite: only the root's type value changes. */
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "xmltype.h"

static const char *const from_default[] = {"kvm", "qemu"};
static const struct l1vh_xmltype_rule to_hyperv = {"hyperv", from_default, 2};
static const struct l1vh_xmltype_rule to_kvm = {"kvm", from_default, 2};

/* Rewrite in; expect result res and, when REWRITTEN, exactly want. */
static int expect(const struct l1vh_xmltype_rule *rule, const char *in, enum l1vh_xmltype_result res,
                  const char *want)
{
  char *out = NULL;
  size_t len = 0;
  const char *why = NULL;
  enum l1vh_xmltype_result got = l1vh_xmltype_rewrite(in, strlen(in), rule, &out, &len, &why);
  int ok = got == res && why != NULL;

  if (ok && res == L1VH_XMLTYPE_REWRITTEN)
    ok = out && len == strlen(want) && memcmp(out, want, len) == 0 && out[len] == '\0';
  if (ok && res != L1VH_XMLTYPE_REWRITTEN)
    ok = out == NULL;
  if (!ok)
    printf("# in: %.200s\n# got %d (%s), out: %.200s\n", in, got, why ? why : "(null)",
           out ? out : "(null)");
  free(out);
  return ok;
}

#define REWRITES(rule, in, want) CHECK(expect(rule, in, L1VH_XMLTYPE_REWRITTEN, want))
#define RESULT(rule, in, res) CHECK(expect(rule, in, res, NULL))

L1VH_TEST(xmltype_plain_kvm_and_qemu)
{
  REWRITES(&to_hyperv, "<domain type='kvm'><name>a</name></domain>",
           "<domain type='hyperv'><name>a</name></domain>");
  REWRITES(&to_hyperv, "<domain type=\"qemu\">\n  <name>a</name>\n</domain>\n",
           "<domain type=\"hyperv\">\n  <name>a</name>\n</domain>\n");
  /* The test stand-in: qemu becomes kvm. */
  REWRITES(&to_kvm, "<domain type='qemu'/>", "<domain type='kvm'/>");
  return UNIT_PASS;
}

L1VH_TEST(xmltype_prolog_comments_whitespace)
{
  REWRITES(&to_hyperv,
           "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- <domain type='kvm'> -->\n"
           "<?pi x?>  \r\n\t<domain\n  type = 'kvm'\n  id=\"3\">\n</domain>",
           "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- <domain type='kvm'> -->\n"
           "<?pi x?>  \r\n\t<domain\n  type = 'hyperv'\n  id=\"3\">\n</domain>");
  REWRITES(&to_hyperv, "\xef\xbb\xbf<domain type='kvm'></domain>",
           "\xef\xbb\xbf<domain type='hyperv'></domain>");
  return UNIT_PASS;
}

L1VH_TEST(xmltype_attribute_order_and_quotes)
{
  REWRITES(&to_hyperv,
           "<domain xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0' id=\"1\" type=\"kvm\">"
           "<name>type='kvm'</name></domain>",
           "<domain xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0' id=\"1\" type=\"hyperv\">"
           "<name>type='kvm'</name></domain>");
  /* Quotes of the other kind inside a value do not end it. */
  REWRITES(&to_hyperv, "<domain a=\"x'y>\" type='kvm' b='\"'/>",
           "<domain a=\"x'y>\" type='hyperv' b='\"'/>");
  /* An attribute whose name ends in type is another attribute. */
  REWRITES(&to_hyperv, "<domain ostype='kvm' type='qemu'/>", "<domain ostype='kvm' type='hyperv'/>");
  return UNIT_PASS;
}

L1VH_TEST(xmltype_leaves_target_and_other_types)
{
  RESULT(&to_hyperv, "<domain type='hyperv'/>", L1VH_XMLTYPE_UNCHANGED);
  RESULT(&to_kvm, "<domain type='kvm'/>", L1VH_XMLTYPE_UNCHANGED);
  RESULT(&to_hyperv, "<domain type='xen'/>", L1VH_XMLTYPE_UNCHANGED);
  RESULT(&to_hyperv, "<domain type='KVM'/>", L1VH_XMLTYPE_UNCHANGED);
  RESULT(&to_hyperv, "<domain type=' kvm'/>", L1VH_XMLTYPE_UNCHANGED);
  RESULT(&to_hyperv, "<domain id='1'/>", L1VH_XMLTYPE_UNCHANGED);
  RESULT(&to_hyperv, "<network type='kvm'/>", L1VH_XMLTYPE_UNCHANGED);
  RESULT(&to_hyperv, "<domainx type='kvm'/>", L1VH_XMLTYPE_UNCHANGED);
  RESULT(&to_hyperv, "<domain type='kvmkvmkvmkvmkvmkvmkvmkvmkvmkvmkvmkvmkvm'/>",
         L1VH_XMLTYPE_UNCHANGED);
  return UNIT_PASS;
}

L1VH_TEST(xmltype_no_root_and_malformed)
{
  RESULT(&to_hyperv, "", L1VH_XMLTYPE_INVALID);
  RESULT(&to_hyperv, "   \n", L1VH_XMLTYPE_INVALID);
  RESULT(&to_hyperv, "<!-- only a comment -->", L1VH_XMLTYPE_INVALID);
  RESULT(&to_hyperv, "<!-- <domain type='kvm'/>", L1VH_XMLTYPE_INVALID);
  RESULT(&to_hyperv, "<?xml version='1.0'", L1VH_XMLTYPE_INVALID);
  RESULT(&to_hyperv, "text <domain type='kvm'/>", L1VH_XMLTYPE_INVALID);
  RESULT(&to_hyperv, "<domain type='kvm'", L1VH_XMLTYPE_INVALID);
  RESULT(&to_hyperv, "<domain type='kvm", L1VH_XMLTYPE_INVALID);
  RESULT(&to_hyperv, "<domain type=kvm/>", L1VH_XMLTYPE_INVALID);
  RESULT(&to_hyperv, "<domain type/>", L1VH_XMLTYPE_INVALID);
  RESULT(&to_hyperv, "<domain id='1'type='kvm'/>", L1VH_XMLTYPE_INVALID);
  RESULT(&to_hyperv, "<domain type='k<vm'/>", L1VH_XMLTYPE_INVALID);
  RESULT(&to_hyperv, "< domain type='kvm'/>", L1VH_XMLTYPE_INVALID);
  RESULT(&to_hyperv, "<![CDATA[x]]><domain type='kvm'/>", L1VH_XMLTYPE_INVALID);
  return UNIT_PASS;
}

L1VH_TEST(xmltype_refuses_what_it_cannot_read)
{
  /* A DOCTYPE could declare an entity or a default for type. */
  RESULT(&to_hyperv, "<!DOCTYPE domain [<!ATTLIST domain type CDATA 'kvm'>]><domain/>",
         L1VH_XMLTYPE_REFUSED);
  RESULT(&to_hyperv, "<!DOCTYPE domain><domain type='kvm'/>", L1VH_XMLTYPE_REFUSED);
  RESULT(&to_hyperv, "<domain type='&t;'/>", L1VH_XMLTYPE_REFUSED);
  RESULT(&to_hyperv, "<domain type='k&#0;vm'/>", L1VH_XMLTYPE_REFUSED);
  RESULT(&to_hyperv, "<domain type='kvm&amp'/>", L1VH_XMLTYPE_REFUSED);
  RESULT(&to_hyperv, "<domain type='kvm' type='qemu'/>", L1VH_XMLTYPE_REFUSED);
  /* libxml2's xmlGetProp() matches a prefixed type as well. */
  RESULT(&to_hyperv, "<domain x:type='xen' type='kvm'/>", L1VH_XMLTYPE_REFUSED);
  return UNIT_PASS;
}

L1VH_TEST(xmltype_character_references)
{
  /* What libxml2 reads as "kvm" is rewritten, the whole value replaced. */
  REWRITES(&to_hyperv, "<domain type='&#107;vm'/>", "<domain type='hyperv'/>");
  REWRITES(&to_hyperv, "<domain type='q&#x65;mu'/>", "<domain type='hyperv'/>");
  RESULT(&to_hyperv, "<domain type='hyp&#x65;rv'/>", L1VH_XMLTYPE_UNCHANGED);
  RESULT(&to_hyperv, "<domain type='k&lt;vm'/>", L1VH_XMLTYPE_UNCHANGED);
  return UNIT_PASS;
}

L1VH_TEST(xmltype_namespaces)
{
  /* libvirt checks the root's local name; xmlns:type is a declaration. */
  REWRITES(&to_hyperv, "<x:domain xmlns:x='urn:x' x:type='kvm'/>",
           "<x:domain xmlns:x='urn:x' x:type='hyperv'/>");
  REWRITES(&to_hyperv, "<domain xmlns:type='urn:t' type='kvm'/>",
           "<domain xmlns:type='urn:t' type='hyperv'/>");
  return UNIT_PASS;
}

L1VH_TEST(xmltype_huge_and_nul)
{
  size_t big = L1VH_XMLTYPE_MAX_BYTES + 1;
  char *doc = malloc(big + 1), *out = NULL;
  const char *why = NULL;
  size_t len;

  CHECK(doc);
  memset(doc, ' ', big);
  memcpy(doc + big - 20, "<domain type='kvm'/>", 20);
  doc[big] = '\0';
  CHECK(l1vh_xmltype_rewrite(doc, big, &to_hyperv, &out, &len, &why) == L1VH_XMLTYPE_REFUSED);
  CHECK(out == NULL);
  CHECK_HAS(why, "32 MiB");
  /* Just under the cap: a long run of white space is still read. */
  CHECK(l1vh_xmltype_rewrite(doc + 1, big - 1, &to_hyperv, &out, &len, &why) ==
        L1VH_XMLTYPE_REWRITTEN);
  CHECK(len == big - 1 + 3);
  CHECK(memcmp(out + len - 23, "<domain type='hyperv'/>", 23) == 0);
  free(out);
  free(doc);

  CHECK(l1vh_xmltype_rewrite("<domain type='kvm'/>\0x", 22, &to_hyperv, &out, &len, &why) ==
        L1VH_XMLTYPE_INVALID);
  return UNIT_PASS;
}

L1VH_TEST(xmltype_not_nul_terminated)
{
  char doc[] = {'<', 'd', 'o', 'm', 'a', 'i', 'n', ' ', 't', 'y', 'p', 'e', '=', '\'', 'k', 'v',
                'm', '\''};
  char *out = NULL;
  const char *why;
  size_t len;

  /* The start tag is cut off at the buffer's end: nothing is read past it. */
  CHECK(l1vh_xmltype_rewrite(doc, sizeof(doc), &to_hyperv, &out, &len, &why) == L1VH_XMLTYPE_INVALID);
  CHECK(l1vh_xmltype_rewrite(doc, 12, &to_hyperv, &out, &len, &why) == L1VH_XMLTYPE_INVALID);
  return UNIT_PASS;
}

L1VH_TEST(xmltype_rule_checked)
{
  static const struct l1vh_xmltype_rule bad = {"hy'perv", from_default, 2};
  static const struct l1vh_xmltype_rule empty = {"", from_default, 2};
  RESULT(&bad, "<domain type='kvm'/>", L1VH_XMLTYPE_REFUSED);
  RESULT(&empty, "<domain type='kvm'/>", L1VH_XMLTYPE_REFUSED);
  CHECK(l1vh_xmltype_valid_name("hyperv"));
  CHECK(!l1vh_xmltype_valid_name("Hyperv"));
  CHECK(!l1vh_xmltype_valid_name(NULL));
  return UNIT_PASS;
}

/* A libvirt-style document made by KubeVirt: everything after the type
 * attribute stays byte for byte. */
L1VH_TEST(xmltype_rest_byte_identical)
{
  const char *in = "<domain type=\"qemu\" xmlns:qemu=\"http://libvirt.org/schemas/domain/qemu/1.0\">\n"
                   "  <name>default_vm</name>\n  <memory unit=\"b\">67108864</memory>\n"
                   "  <os><type arch=\"x86_64\" machine=\"q35\">hvm</type></os>\n"
                   "  <devices><emulator>/usr/libexec/qemu-kvm</emulator></devices>\n"
                   "  <qemu:commandline><qemu:arg value=\"-accel\"/></qemu:commandline>\n</domain>";
  char *out = NULL;
  const char *why;
  size_t len;

  CHECK(l1vh_xmltype_rewrite(in, strlen(in), &to_hyperv, &out, &len, &why) == L1VH_XMLTYPE_REWRITTEN);
  CHECK(memcmp(out, "<domain type=\"hyperv\"", 21) == 0);
  CHECK(strcmp(out + 21, in + 19) == 0);
  free(out);
  return UNIT_PASS;
}

// The template engine end to end: lexer and parser on the text, then, when it parses, an
// execution with confd's and consul-template's functions over a small store. The network and
// clock functions are replaced so that a run depends on the input alone.
#include "herald/tmpl/template.hpp"

#include "fuzz.hpp"
#include "herald/tmpl/funcs_confd.hpp"
#include "herald/tmpl/funcs_consul.hpp"

#include <memory>
#include <string>

using namespace herald::tmpl;

namespace {

std::shared_ptr<KvStore> make_store() {
  auto store = std::make_shared<KvStore>();
  store->set("/services/web/api/api@1", "10.0.0.5:3000");
  store->set("/services/web/api/api@2", R"({"host":"10.0.0.6","port":3000,"tags":["a"]})");
  store->set("/services/web/www/www@1", "[::1]:80");
  store->set("/services/domain", "example.com");
  store->set("/config/list", "[1,\"x\",{\"k\":[true,null]}]");
  return store;
}

FuncMap make_funcs(const std::shared_ptr<KvStore>& store, std::string_view text) {
  FuncMap funcs = confd_funcs(store);
  add_consul_funcs(funcs, text, store, nullptr);
  auto none = Function([](std::span<const Value>) { return Value::strings({}); });
  for (const char* lookup : {"lookupIP", "lookupIPV4", "lookupIPV6", "lookupSRV"}) {
    funcs.insert_or_assign(lookup, none);
  }
  funcs.insert_or_assign("datetime", Function([](std::span<const Value>) {
                           return Value::time(TimeValue{1700000000, 0, 0, "UTC"});
                         }));
  return funcs;
}

} // namespace

HERALD_FUZZ_TARGET(template) {
  static const std::shared_ptr<KvStore> store = make_store();
  // The functions depend on the text only through its flavor (consul-template's or confd's):
  // build each set once, not once per input.
  static const FuncMap confd = make_funcs(store, "");
  static const FuncMap consul = make_funcs(store, "{{key \"/a\"}}");
  std::string_view text = herald::fuzz::text_of(data, size);
  herald::fuzz::expect_data_errors([&] {
    Template templ =
        Template::parse("fuzz.tmpl", text, uses_consul_template(text) ? consul : confd);
    ExecOptions options;
    options.max_output = 1 << 20; // the product's limits, scaled to a fuzzer's pace
    options.max_steps = 2'000'000;
    std::string out = templ.execute(Value(), options);
    HERALD_FUZZ_CHECK(out.size() <= options.max_output); // the output cap holds
  });
  return 0;
}

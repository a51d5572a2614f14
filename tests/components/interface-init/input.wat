;; init: my:pkg/setup@0.1.0#init
;; The init is a function of an exported interface instance; it leaves that instance, which keeps its other function.
(component
  (core module $m
    (global $x (mut i32) (i32.const 0))
    (func (export "init") (global.set $x (i32.const 12)))
    (func (export "get") (result i32) global.get $x))
  (core instance $i (instantiate $m))
  (func $init (canon lift (core func $i "init")))
  (func $get (result u32) (canon lift (core func $i "get")))
  (instance $setup (export "init" (func $init)) (export "get" (func $get)))
  (export "my:pkg/setup@0.1.0" (instance $setup))
  (export "get" (func $get))
)

;; init: componentize.wizer
;; The init is a [] -> [] core export that the component does not lift (ComponentizeJS's convention): compsnap lifts it for the run only.
(component
  (core module $m
    (memory (export "memory") 1)
    (global $g (mut i32) (i32.const 0))
    (func (export "componentize.wizer")
      (global.set $g (i32.const 42))
      (i32.store (i32.const 16) (i32.const 7)))
    (func (export "get") (result i32) (i32.add (global.get $g) (i32.load (i32.const 16)))))
  (core instance $i (instantiate $m))
  (func (export "get") (result s32) (canon lift (core func $i "get")))
)

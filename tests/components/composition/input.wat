;; init: init
;; Two sibling components wired in the root: the consumer's init fills the provider's memory and funcref table through its lifted exports.
(component
  (component $provider
    (core module $tbl
      (type $r (func (param i32) (result i32)))
      (table (export "t") 2 funcref)
      (memory (export "m") 1))
    (core module $store
      (type $r (func (param i32) (result i32)))
      (import "tbl" "t" (table 2 funcref))
      (import "tbl" "m" (memory 1))
      (func $square (type $r) (i32.mul (local.get 0) (local.get 0)))
      (func $neg (type $r) (i32.sub (i32.const 0) (local.get 0)))
      (elem declare func $square $neg)
      (func (export "put") (param i32 i32)
        (i32.store (i32.shl (local.get 0) (i32.const 2)) (local.get 1)))
      (func (export "get") (param i32) (result i32)
        (i32.load (i32.shl (local.get 0) (i32.const 2))))
      (func (export "register") (param i32 i32)
        (if (i32.eqz (local.get 1))
          (then (table.set 0 (local.get 0) (ref.func $square)))
          (else (table.set 0 (local.get 0) (ref.func $neg)))))
      (func (export "apply") (param i32 i32) (result i32)
        (call_indirect 0 (type $r) (local.get 1) (local.get 0))))
    (core instance $t (instantiate $tbl))
    (core instance $s (instantiate $store (with "tbl" (instance $t))))
    (func (export "put") (param "k" u32) (param "v" u32) (canon lift (core func $s "put")))
    (func (export "get") (param "k" u32) (result u32) (canon lift (core func $s "get")))
    (func (export "register") (param "slot" u32) (param "which" u32) (canon lift (core func $s "register")))
    (func (export "apply") (param "slot" u32) (param "x" s32) (result s32) (canon lift (core func $s "apply"))))
  (component $consumer
    (import "p" (instance $p
      (export "put" (func (param "k" u32) (param "v" u32)))
      (export "register" (func (param "slot" u32) (param "which" u32)))))
    (core func $put (canon lower (func $p "put")))
    (core func $reg (canon lower (func $p "register")))
    (core module $c
      (import "p" "put" (func $put (param i32 i32)))
      (import "p" "reg" (func $reg (param i32 i32)))
      (func (export "init")
        (call $put (i32.const 1) (i32.const 22))
        (call $put (i32.const 3) (i32.const 44))
        (call $reg (i32.const 0) (i32.const 0))
        (call $reg (i32.const 1) (i32.const 1))))
    (core instance $ci (instantiate $c
      (with "p" (instance (export "put" (func $put)) (export "reg" (func $reg))))))
    (func (export "init") (canon lift (core func $ci "init"))))
  (instance $prov (instantiate $provider))
  (instance $cons (instantiate $consumer (with "p" (instance $prov))))
  (export "init" (func $cons "init"))
  (export "get" (func $prov "get"))
  (export "apply" (func $prov "apply"))
)

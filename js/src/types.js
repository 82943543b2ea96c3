// JSDoc types of the Python ↔ JS contract, checked by `npm run typecheck` (tsc --checkJs):
// the widget's traits as `model.get(name)` returns them (attnwidget/widget/explorer.py, the
// "Traits" table of js/README.md) and the pack header (attnwidget/widget/pack_header.schema.json,
// key for key: tests/types.test.js compares the two). A key renamed here but not in the views,
// or the other way round, is a tsc error. Types only: this module exports no values.

/** @typedef {string | number} ItemId An item id as the dataset has it (text or an integer). */

/**
 * @typedef {object} NamedItem An item of a what-if list ($defs/named).
 * @property {ItemId} id
 * @property {string | null} title
 */

/**
 * @typedef {object} HistoryItem A history item ($defs/item).
 * @property {ItemId} id
 * @property {string | null} title
 * @property {Record<string, string>} features feature field -> value (as text)
 */

/**
 * @typedef {object} ScoredItem A recommendation, or the explained target ($defs/scored).
 * @property {ItemId} id
 * @property {string | null} title
 * @property {Record<string, string>} features
 * @property {number | null} score null for a non-finite score
 */

/**
 * @typedef {object} AgreementFigures One method's agreement with occlusion.
 * @property {number | null} kendall_tau
 * @property {number | null} top1_agreement
 */

/** @typedef {Record<string, AgreementFigures>} Agreement method -> figures ($defs/agreement) */

/**
 * @typedef {object} Importance The "why" panel's part of the header.
 * @property {string[]} methods importance methods, in the order of the "importance" array's rows
 * @property {Record<string, string>} descriptions method -> what it measures
 * @property {string} default the method shown first
 * @property {Agreement} agreement model-level agreement (a mean over sampled users)
 * @property {number | null} n_users how many users that mean is over
 * @property {Agreement} user_agreement this user's agreement
 * @property {string | null} note disagreement note
 * @property {string[]} pending methods not computed yet (a complete pack follows)
 */

/**
 * @typedef {object} FeatureEditInfo One feature edit of a feature what-if, as the banner
 *   says it ("brand of 'Canon EOS' → Lumora").
 * @property {string} field
 * @property {string} value the new value
 * @property {number | null} position the history position edited (null: by value or all)
 * @property {string | null} replaces the value every edited item had (null: by position or all)
 * @property {string | null} title the title of the item at `position`
 */

/**
 * @typedef {object} FeatureChange One history position and field a feature what-if changed.
 * @property {number} position
 * @property {ItemId} id
 * @property {string | null} title
 * @property {string} field
 * @property {string} before
 * @property {string} after
 */

/**
 * @typedef {object} WhatIf What an edited history changed (null for the user's own history).
 * @property {ItemId[]} original_history
 * @property {NamedItem[]} original_recommendations
 * @property {NamedItem[]} entered recommendations that entered the top k
 * @property {NamedItem[]} left recommendations that left it
 * @property {FeatureEditInfo[]} feature_edits the feature edits shown ([] for a remove/add edit)
 * @property {FeatureChange[]} feature_changes the positions and fields they changed
 */

/**
 * @typedef {object} Reason Why a recommendation is made, in a sentence a shopper can read.
 * @property {string} text the sentence (plain text)
 * @property {string} key which template (one_item, two_items, feature, taste, unexplained)
 * @property {string[][]} parts [kind, text] pieces ("text", "item", "value", "field")
 * @property {string[]} evidence ids of the cited purchases
 * @property {number | null} score_drop the evidence: the score's drop without them
 * @property {string} method the importance method that chose them
 */

/**
 * @typedef {object} RemovedItem One purchase a counterfactual leaves out.
 * @property {number} position 0 = oldest
 * @property {string} id
 * @property {string} title
 */

/**
 * @typedef {object} Counterfactual The smallest set of purchases whose removal takes the
 *   explained item out of the top k, verified by re-scoring the edited history.
 * @property {boolean} found
 * @property {number} k
 * @property {RemovedItem[]} removed
 * @property {number} rank_before
 * @property {number} rank_after
 * @property {boolean} exhaustive every smaller set was scored (the size is minimal)
 * @property {string} message one sentence saying the above
 * @property {string[]} edited_history the history without them (a what-if edit)
 */

/**
 * @typedef {object} Truncated A history cut to the model's max_len.
 * @property {number} total
 * @property {number} shown
 */

/**
 * @typedef {object} NonFinite Counts of the non-finite values Python replaced in one array.
 * @property {number} nan
 * @property {number} posinf
 * @property {number} neginf
 */

/**
 * @typedef {object} Timing
 * @property {number} [kernel_ms] time the kernel took to make the pack
 */

/**
 * @typedef {object} ArraySpec Where one array sits in the pack's data section ($defs/array).
 * @property {"float16" | "float32" | "int32" | "uint8" | "log12"} dtype
 * @property {number[]} shape
 * @property {number} offset from the start of the data section, a multiple of 8
 * @property {number} nbytes
 * @property {"full" | "lower"} [layout] log12 only: every cell, or the lower triangle
 * @property {number} [decades] log12 only: the code grid's range
 * @property {number} [steps] log12 only: codes per decade
 */

/**
 * @typedef {object} PackHeader The JSON header of a pack (schema 2).
 * @property {number} schema
 * @property {string} user
 * @property {number} n_layers informational: the arrays' shapes decide
 * @property {number} n_heads informational: the arrays' shapes decide
 * @property {string[]} fields feature fields, "item" first
 * @property {HistoryItem[]} history oldest first
 * @property {Truncated | null} truncated
 * @property {ScoredItem[]} recommendations
 * @property {ScoredItem | null} target the recommendation the importance explains
 * @property {Importance} importance
 * @property {boolean} editable whether what-if edits can be sent
 * @property {Record<string, string[] | null> | null} feature_values values a feature what-if
 *   may set, per field (null: the model cannot edit features; a field's null: too many values)
 * @property {WhatIf | null} what_if
 * @property {(Reason | null)[]} reasons per recommendation, once computed (the first few)
 * @property {Counterfactual | null} counterfactual the explained item's, once computed
 * @property {string[]} warnings
 * @property {Record<string, NonFinite>} nonfinite array name -> counts
 * @property {Timing} [timing]
 * @property {Record<string, ArraySpec>} arrays array name -> where it sits
 */

/**
 * @typedef {object} DecodedArray One array of a pack, decoded.
 * @property {string} dtype as the header names it
 * @property {number[]} shape
 * @property {Float32Array | Int32Array | Uint8Array} data
 * @property {number} [nanCount] NaN weights of a log12 array, counted while it was decoded
 * @property {(index: number) => Float32Array} [block] a log12 array's matrix `index` (over its
 *   leading dimensions), decoded on first use; `data` decodes them all
 */

/**
 * @typedef {object} DecodedPack What decodePack returns.
 * @property {PackHeader} header
 * @property {Record<string, DecodedArray>} arrays
 */

/**
 * @typedef {object} Traits What `model.get(name)` returns for each trait the front end reads.
 * @property {string} user current user id
 * @property {string[]} user_window ids the user slider runs over: at most 100 of the users, from user_window_start
 * @property {number} user_window_start position of user_window[0] among the explorer's users (the browser moves it)
 * @property {number} n_users how many users the explorer offers (the browser never gets their list)
 * @property {number} layer 0-based
 * @property {number} head 0-based
 * @property {"layer" | "rollout"} layer_mode
 * @property {"head" | "mean"} head_mode
 * @property {DataView} payload the current user's pack (empty: nothing to show)
 * @property {DataView} archive a static export's packs (empty in a live kernel)
 * @property {string} error message to show; "" when fine
 * @property {string} status "loading" dims the views
 * @property {number[]} selection selected history positions
 * @property {string[]} history_edit what-if history, item ids oldest first; [] = the user's own
 * @property {FeatureEditTrait[]} feature_edit feature what-if on the shown history; [] = none
 * @property {string} method importance method; "" = the pack's default
 */

/**
 * @typedef {object} FeatureEditTrait One entry of the `feature_edit` trait: the item at
 *   `position` gets `value` in `field`, or every history item whose `field` is `replaces`
 *   (neither: every history item).
 * @property {string} field
 * @property {string} value
 * @property {number} [position]
 * @property {string} [replaces]
 */

/**
 * @typedef {object} UserResults The kernel's answer to {type: "search_users", query} (a custom message).
 * @property {"user_results"} type
 * @property {string} query the query answered (the box may hold another by now)
 * @property {string[]} users at most 20 ids: those starting with the query first, in sorted order
 * @property {boolean} more whether more users match
 */

/**
 * @typedef {object} ItemResults The kernel's answer to {type: "search", query} (a custom message).
 * @property {"search_results"} type
 * @property {string} query
 * @property {NamedItem[]} items at most 20 items, titles cut to 200 characters
 * @property {boolean} more whether more items match
 */

/**
 * @typedef {object} Model anywidget's model, as the front end uses it (the live widget's, or
 *   standalone-host.js's in a static export).
 * @property {<K extends keyof Traits>(name: K) => Traits[K]} get
 * @property {<K extends keyof Traits>(name: K, value: Traits[K]) => void} set
 * @property {() => void} save_changes
 * @property {(event: string, callback: (...args: any[]) => void) => void} on
 * @property {(event?: string, callback?: (...args: any[]) => void) => void} off
 * @property {(content: object, callbacks?: object, buffers?: ArrayBuffer[]) => void} send
 */

export {};

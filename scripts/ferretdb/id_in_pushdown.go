// Added to FerretDB 1.24.2's SQLite backend by tracker's scripts/stack.sh (not upstream code).
//
// Upstream pushes a filter on `_id` down to SQLite only for one scalar value, so a query
// `{_id: {$in: [...]}}` reads and decodes the whole collection. This lets SQLite use the _id
// index for a list of string or ObjectID values too. FerretDB still applies the complete
// filter to the rows SQLite returns, so results are unchanged; anything else is not pushed down.

package sqlite

import (
	"fmt"
	"strings"

	"github.com/FerretDB/FerretDB/internal/backends/sqlite/metadata"
	"github.com/FerretDB/FerretDB/internal/handler/sjson"
	"github.com/FerretDB/FerretDB/internal/types"
	"github.com/FerretDB/FerretDB/internal/util/must"
)

// maxIDsPushedDown keeps the statement below SQLite's limit on bound parameters.
const maxIDsPushedDown = 500

// idInWhere returns ` WHERE _id IN (?, ...)` and its arguments for a filter whose `_id`
// condition is exactly `{$in: [strings or ObjectIDs]}`; ok is false for anything else.
func idInWhere(filter *types.Document) (where string, args []any, ok bool) {
	if filter == nil || !filter.Has("_id") {
		return "", nil, false
	}

	condition, isDoc := must.NotFail(filter.Get("_id")).(*types.Document)
	if !isDoc || condition.Len() != 1 || !condition.Has("$in") {
		return "", nil, false
	}

	values, isArray := must.NotFail(condition.Get("$in")).(*types.Array)
	if !isArray || values.Len() == 0 || values.Len() > maxIDsPushedDown {
		return "", nil, false
	}

	args = make([]any, 0, values.Len())

	for i := 0; i < values.Len(); i++ {
		value := must.NotFail(values.Get(i))
		switch value.(type) {
		case string, types.ObjectID:
			args = append(args, string(must.NotFail(sjson.MarshalSingleValue(value))))
		default:
			return "", nil, false
		}
	}

	marks := strings.TrimSuffix(strings.Repeat("?, ", len(args)), ", ")

	return fmt.Sprintf(` WHERE %s IN (%s)`, metadata.IDColumn, marks), args, true
}

// The Rekindle rules language (SPEC §3). The only grammar: the C++ parser is generated from
// it at build time by Debian's antlr4 tool. compiler/src/parser.cpp turns the parse tree into
// our own AST; nothing outside compiler/ sees ANTLR types.
grammar Rekindle;

program
  : header? declaration* EOF
  ;

header
  : RULES name=IDENT (VERSION version=INT)?
  ;

declaration
  : useDecl
  | paramDecl
  | letDecl
  | segmentDecl
  | tableDecl
  | capDecl
  | holdoutDecl
  ;

useDecl
  : USE IDENT ('.' IDENT)* (AS alias=IDENT)?
  ;

// The value must be a literal, a negated literal or a list of those; the checker says so
// (E031) rather than the parser, which could only say "unexpected".
paramDecl
  : PARAM name=IDENT '=' expr
  ;

letDecl
  : LET name=IDENT '=' expr
  ;

segmentDecl
  : SEGMENT name=IDENT WHEN expr
  ;

// stage / channel / offer ... end: rows `OUTCOME when CONDITION` or `OUTCOME otherwise`,
// first match wins (SPEC §3.4).
tableDecl
  : kind=(STAGE | CHANNEL | OFFER) tableRow* END
  ;

tableRow
  : outcome=(IDENT | NONE) (WHEN expr | OTHERWISE) limitClause?
  ;

// `limit 600` or `limit daily_calls` (an int param, so the config or --param can change it).
limitClause
  : LIMIT (INT | param=IDENT) (RANK BY expr order=(ASC | DESC)?)?
  ;

// cap email: 2 per 7d, 6 per 30d when account_type == "b2b"
// cap any: 1 per calendar day
capDecl
  : CAP target=IDENT ':' capWindow (',' capWindow)* (WHEN expr)?
  ;

capWindow
  : count=INT PER (DURATION | CALENDAR unit=IDENT)
  ;

holdoutDecl
  : HOLDOUT PERCENT (SALT STRING)?
  ;

// Precedence, loosest last (ANTLR: earlier alternatives bind tighter):
//   postfix . call  >  unary -  >  * / %  >  + -  >  ??  >  comparisons, in, is null
//   >  not  >  and  >  or  >  where
expr
  : primary                                                   # primaryExpr
  | expr '.' name=memberName '(' argList? ')'                 # methodCallExpr
  | expr '.' name=memberName                                  # memberExpr
  | MINUS expr                                                # negateExpr
  | expr op=(STAR | SLASH | PERCENT_SIGN) expr                # mulExpr
  | expr op=(PLUS | MINUS) expr                               # addExpr
  | <assoc = right> expr QQ expr                              # coalesceExpr
  | expr op=(EQ | NE | LT | LE | GT | GE) expr                # compareExpr
  | expr NOT? IN expr                                         # inExpr
  | expr IS NOT? NULL_LIT                                       # isNullExpr
  | NOT expr                                                  # notExpr
  | expr AND expr                                             # andExpr
  | expr OR expr                                              # orExpr
  | expr WHERE expr                                           # whereExpr
  ;

primary
  : literal                                                   # literalPrimary
  | name=IDENT '(' argList? ')'                               # callPrimary
  | name=IDENT                                                # namePrimary
  | kind=(STAGE | CHANNEL | OFFER)                            # decisionPrimary
  | NOW                                                       # nowPrimary
  | TODAY                                                     # todayPrimary
  | PREVIOUS                                                  # previousPrimary
  | '(' expr ')'                                              # parenPrimary
  | '[' (expr (',' expr)* ','?)? ']'                          # listPrimary
  ;

argList
  : expr (',' expr)*
  ;

// After a dot any word is a name: events.channel, previous.stage, previous.segment.
memberName
  : IDENT | RULES | VERSION | USE | AS | PARAM | LET | SEGMENT | STAGE | CHANNEL | OFFER | END
  | WHEN | OTHERWISE | LIMIT | RANK | BY | ASC | DESC | CAP | PER | CALENDAR | HOLDOUT | SALT
  | WHERE | AND | OR | NOT | IN | IS | NULL_LIT | TRUE_LIT | FALSE_LIT | NONE | NOW | TODAY
  | PREVIOUS
  ;

literal
  : INT | FLOAT | STRING | TRUE_LIT | FALSE_LIT | NULL_LIT | NONE | DURATION | DATE | TIME | PERCENT
  ;

// ---- lexer ---------------------------------------------------------------------------------

RULES: 'rules';
VERSION: 'version';
USE: 'use';
AS: 'as';
PARAM: 'param';
LET: 'let';
SEGMENT: 'segment';
STAGE: 'stage';
CHANNEL: 'channel';
OFFER: 'offer';
END: 'end';
WHEN: 'when';
OTHERWISE: 'otherwise';
LIMIT: 'limit';
RANK: 'rank';
BY: 'by';
ASC: 'asc';
DESC: 'desc';
CAP: 'cap';
PER: 'per';
CALENDAR: 'calendar';
HOLDOUT: 'holdout';
SALT: 'salt';
WHERE: 'where';
AND: 'and';
OR: 'or';
NOT: 'not';
IN: 'in';
IS: 'is';
NULL_LIT: 'null';
TRUE_LIT: 'true';
FALSE_LIT: 'false';
NONE: 'none';
NOW: 'now';
TODAY: 'today';
PREVIOUS: 'previous';

// Literals. Longest match makes 2026-11-23 a date, 90d a duration and 10% a percentage; write
// `a % b` with spaces for the remainder operator.
TIME
  : DATE_PART 'T' DIGIT DIGIT ':' DIGIT DIGIT (':' DIGIT DIGIT ('.' DIGIT+)?)?
    ('Z' | [+-] DIGIT DIGIT ':' DIGIT DIGIT)?
  ;
DATE: DATE_PART;
DURATION: DIGIT+ [wdhms];
PERCENT: DIGIT+ ('.' DIGIT+)? '%';
FLOAT: DIGIT+ '.' DIGIT+ ([eE] [+-]? DIGIT+)?;
INT: DIGIT+;
STRING: '"' (ESCAPE | ~["\\\r\n])* '"';
// A string missing its closing quote on its line: reported by our own diagnostics.
UNTERMINATED_STRING: '"' (ESCAPE | ~["\\\r\n])*;
IDENT: [A-Za-z_] [A-Za-z0-9_]*;

QQ: '??';
EQ: '==';
NE: '!=';
LE: '<=';
GE: '>=';
LT: '<';
GT: '>';
PLUS: '+';
MINUS: '-';
STAR: '*';
SLASH: '/';
PERCENT_SIGN: '%';
LPAREN: '(';
RPAREN: ')';
LBRACKET: '[';
RBRACKET: ']';
COMMA: ',';
DOT: '.';
COLON: ':';
ASSIGN: '=';

// Comments stay in the token stream (hidden) so `rekindle fmt` can keep them.
COMMENT: '#' ~[\r\n]* -> channel(HIDDEN);
NEWLINE: ('\r'? '\n' | '\r') -> channel(HIDDEN);
WS: [ \t\f]+ -> channel(HIDDEN);
// Anything else is one bad character, reported by our diagnostics rather than ANTLR's.
BAD_CHAR: .;

fragment DATE_PART: DIGIT DIGIT DIGIT DIGIT '-' DIGIT DIGIT '-' DIGIT DIGIT;
fragment DIGIT: [0-9];
fragment ESCAPE: '\\' .;

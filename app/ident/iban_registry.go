package ident

// ibanCountry is one row of the SWIFT IBAN registry (release 101): the IBAN
// length and the BBAN structure in the registry's notation without the "!"
// (every group is fixed-length): n digits, a upper-case letters, c letters
// or digits. sepa is whether the country is in the SEPA schemes'
// geographical scope (EPC409-09): the EU and EEA states, Switzerland, the
// United Kingdom, Monaco, San Marino, Vatican City, Andorra, Gibraltar
// (own IBAN code), and since 2024–2025 Albania, Montenegro, Moldova, North
// Macedonia and Serbia. The Faroe Islands and Greenland are not in SEPA.
// The flag is per IBAN country code, so it is approximate where a code
// spans territories in and out of SEPA (FR IBANs of New Caledonia or
// French Polynesia are not SEPA). Both lists change: check the registry
// and EPC409-09 when a customer's bank is refused.
type ibanCountry struct {
	length int
	bban   string
	sepa   bool
}

var ibanRegistry = map[string]ibanCountry{
	"AD": {24, "4n4n12c", true},        // Andorra
	"AE": {23, "3n16n", false},         // United Arab Emirates (The)
	"AL": {28, "8n16c", true},          // Albania
	"AT": {20, "5n11n", true},          // Austria
	"AZ": {28, "4a20c", false},         // Azerbaijan
	"BA": {20, "3n3n8n2n", false},      // Bosnia and Herzegovina
	"BE": {16, "3n7n2n", true},         // Belgium
	"BG": {22, "4a4n2n8c", true},       // Bulgaria
	"BH": {22, "4a14c", false},         // Bahrain
	"BI": {27, "5n5n11n2n", false},     // Burundi
	"BR": {29, "8n5n10n1a1c", false},   // Brazil
	"BY": {28, "4c4n16c", false},       // Belarus
	"CH": {21, "5n12c", true},          // Switzerland
	"CR": {22, "4n14n", false},         // Costa Rica
	"CY": {28, "3n5n16c", true},        // Cyprus
	"CZ": {24, "4n16n", true},          // Czechia
	"DE": {22, "8n10n", true},          // Germany
	"DJ": {27, "5n5n11n2n", false},     // Djibouti
	"DK": {18, "4n9n1n", true},         // Denmark
	"DO": {28, "4c20n", false},         // Dominican Republic
	"EE": {20, "2n14n", true},          // Estonia
	"EG": {29, "4n4n17n", false},       // Egypt
	"ES": {24, "4n4n1n1n10n", true},    // Spain
	"FI": {18, "3n11n", true},          // Finland
	"FK": {18, "2a12n", false},         // Falkland Islands (Malvinas)
	"FO": {18, "4n9n1n", false},        // Faroe Islands
	"FR": {27, "5n5n11c2n", true},      // France
	"GB": {22, "4a6n8n", true},         // United Kingdom
	"GE": {22, "2a16n", false},         // Georgia
	"GI": {23, "4a15c", true},          // Gibraltar
	"GL": {18, "4n9n1n", false},        // Greenland
	"GR": {27, "3n4n16c", true},        // Greece
	"GT": {28, "4c20c", false},         // Guatemala
	"HN": {28, "4a20n", false},         // Honduras
	"HR": {21, "7n10n", true},          // Croatia
	"HU": {28, "3n4n1n15n1n", true},    // Hungary
	"IE": {22, "4a6n8n", true},         // Ireland
	"IL": {23, "3n3n13n", false},       // Israel
	"IQ": {23, "4a3n12n", false},       // Iraq
	"IS": {26, "4n2n6n10n", true},      // Iceland
	"IT": {27, "1a5n5n12c", true},      // Italy
	"JO": {30, "4a4n18c", false},       // Jordan
	"KW": {30, "4a22c", false},         // Kuwait
	"KZ": {20, "3n13c", false},         // Kazakhstan
	"LB": {28, "4n20c", false},         // Lebanon
	"LC": {32, "4a24c", false},         // Saint Lucia
	"LI": {21, "5n12c", true},          // Liechtenstein
	"LT": {20, "5n11n", true},          // Lithuania
	"LU": {20, "3n13c", true},          // Luxembourg
	"LV": {21, "4a13c", true},          // Latvia
	"LY": {25, "3n3n15n", false},       // Libya
	"MC": {27, "5n5n11c2n", true},      // Monaco
	"MD": {24, "2c18c", true},          // Moldova, Republic of
	"ME": {22, "3n13n2n", true},        // Montenegro
	"MK": {19, "3n10c2n", true},        // North Macedonia
	"MN": {20, "4n12n", false},         // Mongolia
	"MR": {27, "5n5n11n2n", false},     // Mauritania
	"MT": {31, "4a5n18c", true},        // Malta
	"MU": {30, "4a2n2n12n3n3a", false}, // Mauritius
	"NI": {28, "4a20n", false},         // Nicaragua
	"NL": {18, "4a10n", true},          // Netherlands (The)
	"NO": {15, "4n6n1n", true},         // Norway
	"OM": {23, "3n16c", false},         // Oman
	"PK": {24, "4a16c", false},         // Pakistan
	"PL": {28, "8n16n", true},          // Poland
	"PS": {29, "4a21c", false},         // Palestine, State of
	"PT": {25, "4n4n11n2n", true},      // Portugal
	"QA": {29, "4a21c", false},         // Qatar
	"RO": {24, "4a16c", true},          // Romania
	"RS": {22, "3n13n2n", true},        // Serbia
	"RU": {33, "9n5n15c", false},       // Russian Federation
	"SA": {24, "2n18c", false},         // Saudi Arabia
	"SC": {31, "4a2n2n16n3a", false},   // Seychelles
	"SD": {18, "2n12n", false},         // Sudan
	"SE": {24, "3n16n1n", true},        // Sweden
	"SI": {19, "5n8n2n", true},         // Slovenia
	"SK": {24, "4n6n10n", true},        // Slovakia
	"SM": {27, "1a5n5n12c", true},      // San Marino
	"SO": {23, "4n3n12n", false},       // Somalia
	"ST": {25, "4n4n11n2n", false},     // Sao Tome and Principe
	"SV": {28, "4a20n", false},         // El Salvador
	"TL": {23, "3n14n2n", false},       // Timor-Leste
	"TN": {24, "2n3n13n2n", false},     // Tunisia
	"TR": {26, "5n1n16c", false},       // Turkiye
	"UA": {29, "6n19c", false},         // Ukraine
	"VA": {22, "3n15n", true},          // Holy See
	"VG": {24, "4a16n", false},         // Virgin Islands (British)
	"XK": {20, "4n10n2n", false},       // Kosovo
	"YE": {30, "4a4n18c", false},       // Yemen
}

package catalog

// The vocabulary products are made of: categories, the kinds of product in each with their Korean and
// English names and price bands, brands, colours and selling points. Titles mix the two languages as
// Korean shops' titles do ("[나이키] 남성 경량 러닝화 블랙 Air Zoom 270").

// Kind is a kind of product: 러닝화 (running shoes), 노트북 (laptop).
type Kind struct {
	Ko, En             string // names; En may have several words
	MinPrice, MaxPrice int    // in won
}

// Category is a shop department with its kinds and brands.
type Category struct {
	ID       string // keyword stored in documents: "shoes"
	Ko, En   string
	Kinds    []Kind
	Brands   []Brand
	Features []Word // selling points of the category's products
}

// Brand is a maker, with its Korean and English names; ID is the keyword stored in documents.
type Brand struct {
	ID, Ko, En string
	Models     []string // model names used in titles, Latin
}

// Word is a word used in titles and descriptions, in both languages.
type Word struct{ Ko, En string }

// categories is the catalog's departments, in a fixed order. Read only.
var categories = []Category{
	{ID: "shoes", Ko: "신발", En: "shoes",
		Kinds: []Kind{
			{"운동화", "sneakers", 39000, 189000}, {"러닝화", "running shoes", 59000, 259000},
			{"워킹화", "walking shoes", 49000, 159000}, {"등산화", "hiking boots", 89000, 299000},
			{"구두", "dress shoes", 69000, 349000}, {"샌들", "sandals", 19000, 99000},
			{"슬리퍼", "slippers", 9000, 49000}, {"부츠", "boots", 79000, 399000},
		},
		Brands: []Brand{
			{"nike", "나이키", "Nike", []string{"Air Zoom", "Air Max", "Pegasus", "Cortez", "Revolution"}},
			{"adidas", "아디다스", "Adidas", []string{"Ultraboost", "Samba", "Superstar", "Gazelle"}},
			{"newbalance", "뉴발란스", "New Balance", []string{"530", "990", "327", "Fresh Foam"}},
			{"asics", "아식스", "Asics", []string{"Gel Kayano", "Novablast", "Gel Nimbus"}},
			{"puma", "푸마", "Puma", []string{"Suede", "Speedcat", "Palermo"}},
			{"crocs", "크록스", "Crocs", []string{"Classic", "Echo", "Bayaband"}},
		},
		Features: []Word{
			{"경량", "lightweight"}, {"방수", "waterproof"}, {"초경량", "ultralight"}, {"쿠션", "cushioned"},
			{"통기성", "breathable"}, {"정품", "genuine"}, {"신상", "new arrival"}, {"특가", "special price"},
			{"무료배송", "free shipping"},
		}},
	{ID: "clothing", Ko: "의류", En: "clothing",
		Kinds: []Kind{
			{"티셔츠", "t-shirt", 9900, 59000}, {"후드티", "hoodie", 29000, 129000},
			{"청바지", "jeans", 29000, 159000}, {"패딩", "padded jacket", 79000, 599000},
			{"원피스", "dress", 29000, 189000}, {"바람막이", "windbreaker", 39000, 229000},
			{"레깅스", "leggings", 19000, 89000}, {"셔츠", "shirt", 19000, 99000},
		},
		Brands: []Brand{
			{"uniqlo", "유니클로", "Uniqlo", []string{"AIRism", "Heattech", "U"}},
			{"northface", "노스페이스", "The North Face", []string{"Nuptse", "Himalayan", "Denali"}},
			{"musinsa", "무신사스탠다드", "Musinsa Standard", []string{"Basic", "Relaxed", "Wide"}},
			{"spao", "스파오", "Spao", []string{"Daily", "Original"}},
			{"nike", "나이키", "Nike", []string{"Dri-FIT", "Club", "Tech Fleece"}},
			{"adidas", "아디다스", "Adidas", []string{"Essentials", "Adicolor", "Tiro"}},
		},
		Features: []Word{
			{"오버핏", "oversized"}, {"슬림핏", "slim fit"}, {"기모", "fleece lined"}, {"쿨링", "cooling"},
			{"방수", "waterproof"}, {"경량", "lightweight"}, {"보온", "insulated"}, {"신상", "new arrival"},
			{"특가", "special price"}, {"무료배송", "free shipping"},
		}},
	{ID: "bags", Ko: "가방", En: "bags",
		Kinds: []Kind{
			{"백팩", "backpack", 29000, 259000}, {"크로스백", "crossbody bag", 19000, 189000},
			{"토트백", "tote bag", 19000, 299000}, {"캐리어", "suitcase", 59000, 459000},
			{"지갑", "wallet", 19000, 199000}, {"에코백", "eco bag", 9000, 39000},
		},
		Brands: []Brand{
			{"samsonite", "쌤소나이트", "Samsonite", []string{"Proxis", "Evoa", "Minter"}},
			{"eastpak", "이스트팩", "Eastpak", []string{"Padded", "Out of Office"}},
			{"northface", "노스페이스", "The North Face", []string{"Borealis", "Big Shot"}},
			{"jansport", "잔스포츠", "JanSport", []string{"SuperBreak", "Right Pack"}},
		},
		Features: []Word{
			{"대용량", "large capacity"}, {"방수", "waterproof"}, {"경량", "lightweight"}, {"정품", "genuine"},
			{"신상", "new arrival"}, {"특가", "special price"}, {"무료배송", "free shipping"},
		}},
	{ID: "electronics", Ko: "가전디지털", En: "electronics",
		Kinds: []Kind{
			{"노트북", "laptop", 590000, 3290000}, {"스마트폰", "smartphone", 290000, 1990000},
			{"무선이어폰", "wireless earbuds", 29000, 359000}, {"헤드폰", "headphones", 49000, 599000},
			{"태블릿", "tablet", 249000, 1790000}, {"모니터", "monitor", 129000, 1290000},
			{"키보드", "keyboard", 19000, 259000}, {"마우스", "mouse", 9000, 149000},
			{"스마트워치", "smartwatch", 99000, 899000}, {"충전기", "charger", 9000, 89000},
		},
		Brands: []Brand{
			{"samsung", "삼성", "Samsung", []string{"Galaxy", "Galaxy Book", "Odyssey", "Galaxy Buds"}},
			{"apple", "애플", "Apple", []string{"MacBook Air", "iPhone", "iPad", "AirPods"}},
			{"lg", "엘지", "LG", []string{"Gram", "UltraGear", "Tone Free"}},
			{"sony", "소니", "Sony", []string{"WH-1000XM5", "WF-1000XM5", "Xperia"}},
			{"logitech", "로지텍", "Logitech", []string{"MX Master", "MX Keys", "G Pro"}},
			{"xiaomi", "샤오미", "Xiaomi", []string{"Redmi", "Mi Band", "Pad"}},
		},
		Features: []Word{
			{"무선", "wireless"}, {"고속충전", "fast charging"}, {"노이즈캔슬링", "noise cancelling"}, {"대용량", "large capacity"},
			{"프리미엄", "premium"}, {"정품", "genuine"}, {"신상", "new arrival"}, {"특가", "special price"},
			{"무료배송", "free shipping"},
		}},
	{ID: "kitchen", Ko: "주방용품", En: "kitchen",
		Kinds: []Kind{
			{"프라이팬", "frying pan", 15000, 129000}, {"냄비", "pot", 19000, 189000},
			{"텀블러", "tumbler", 9900, 59000}, {"밀폐용기", "food container", 9900, 49000},
			{"전기포트", "electric kettle", 19000, 99000}, {"에어프라이어", "air fryer", 59000, 299000},
		},
		Brands: []Brand{
			{"tefal", "테팔", "Tefal", []string{"Ingenio", "Unlimited"}},
			{"locknlock", "락앤락", "Lock&Lock", []string{"Classic", "Bisfree"}},
			{"stanley", "스탠리", "Stanley", []string{"Quencher", "Classic"}},
			{"philips", "필립스", "Philips", []string{"Essential", "XXL"}},
		},
		Features: []Word{
			{"논스틱", "nonstick"}, {"보온", "insulated"}, {"대용량", "large capacity"}, {"프리미엄", "premium"},
			{"특가", "special price"}, {"무료배송", "free shipping"},
		}},
	{ID: "beauty", Ko: "뷰티", En: "beauty",
		Kinds: []Kind{
			{"선크림", "sunscreen", 9900, 39000}, {"립스틱", "lipstick", 9900, 49000},
			{"샴푸", "shampoo", 7900, 35000}, {"토너", "toner", 9900, 45000},
			{"쿠션", "cushion foundation", 15000, 59000}, {"클렌징폼", "cleansing foam", 6900, 25000},
		},
		Brands: []Brand{
			{"innisfree", "이니스프리", "Innisfree", []string{"Green Tea", "Jeju"}},
			{"laneige", "라네즈", "Laneige", []string{"Water Bank", "Neo"}},
			{"sulwhasoo", "설화수", "Sulwhasoo", []string{"First Care", "Concentrated"}},
			{"roundlab", "라운드랩", "Round Lab", []string{"Dokdo", "Birch"}},
		},
		Features: []Word{
			{"저자극", "hypoallergenic"}, {"유기농", "organic"}, {"프리미엄", "premium"}, {"정품", "genuine"},
			{"대용량", "large capacity"}, {"특가", "special price"},
		}},
	{ID: "food", Ko: "식품", En: "food",
		Kinds: []Kind{
			{"라면", "ramen", 3900, 29000}, {"커피", "coffee", 5900, 49000},
			{"생수", "bottled water", 4900, 19000}, {"과자", "snacks", 1900, 19000},
			{"김치", "kimchi", 9900, 59000}, {"견과류", "nuts", 9900, 49000},
		},
		Brands: []Brand{
			{"nongshim", "농심", "Nongshim", []string{"Shin", "Chapagetti"}},
			{"ottogi", "오뚜기", "Ottogi", []string{"Jin", "Sesame"}},
			{"starbucks", "스타벅스", "Starbucks", []string{"Pike Place", "Veranda"}},
			{"cj", "씨제이", "CJ", []string{"Bibigo", "Hetbahn"}},
		},
		Features: []Word{
			{"유기농", "organic"}, {"대용량", "large capacity"}, {"특가", "special price"}, {"무료배송", "free shipping"},
			{"프리미엄", "premium"},
		}},
}

// colors are used in the titles of the categories that have colours. Read only.
var colors = []Word{
	{"블랙", "black"}, {"화이트", "white"}, {"네이비", "navy"}, {"그레이", "grey"}, {"베이지", "beige"},
	{"레드", "red"}, {"블루", "blue"}, {"그린", "green"}, {"핑크", "pink"}, {"브라운", "brown"},
}

// audiences are who a product is for. Read only.
var audiences = []Word{{"남성", "men"}, {"여성", "women"}, {"공용", "unisex"}, {"아동", "kids"}}

// hasColor reports whether titles in the category name a colour.
func hasColor(categoryID string) bool {
	switch categoryID {
	case "food", "beauty":
		return false
	}
	return true
}

// hasAudience reports whether titles in the category say who the product is for.
func hasAudience(categoryID string) bool {
	switch categoryID {
	case "shoes", "clothing", "bags":
		return true
	}
	return false
}

// descriptionWords are the Korean words descriptions use besides the vocabulary's.
var descriptionWords = []string{"정품", "데일리", "운동", "여행", "출근", "선물", "제품", "가격"}

// Categories returns the catalog's departments, with their kinds and brands, in a fixed order. The
// result is a copy.
func Categories() []Category {
	out := make([]Category, len(categories))
	for i, c := range categories {
		c.Kinds = append([]Kind(nil), c.Kinds...)
		c.Brands = append([]Brand(nil), c.Brands...)
		c.Features = append([]Word(nil), c.Features...)
		for j := range c.Brands {
			c.Brands[j].Models = append([]string(nil), c.Brands[j].Models...)
		}
		out[i] = c
	}
	return out
}

// Colors returns the colours titles name, in a fixed order.
func Colors() []Word { return append([]Word(nil), colors...) }

// Audiences returns who products are for (남성 men, 여성 women...), in a fixed order.
func Audiences() []Word { return append([]Word(nil), audiences...) }

// KoreanWords returns every Korean word products are made of, each once, in a fixed order: what a
// segmenter's dictionary must hold to split the catalog's compounds ("나이키경량러닝화") into them.
func KoreanWords() []string {
	seen := map[string]bool{}
	var out []string
	add := func(w string) {
		if w != "" && !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	for _, c := range categories {
		add(c.Ko)
		for _, k := range c.Kinds {
			add(k.Ko)
		}
		for _, b := range c.Brands {
			add(b.Ko)
		}
		for _, f := range c.Features {
			add(f.Ko)
		}
	}
	for _, words := range [][]Word{colors, audiences} {
		for _, w := range words {
			add(w.Ko)
		}
	}
	for _, w := range descriptionWords {
		add(w)
	}
	return out
}
